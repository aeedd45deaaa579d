const ignore = require(process.argv[2]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(({content, paths}) => {
  const text = Buffer.from(content, 'base64').toString('utf8');
  let ig;
  try { ig = ignore().add(text); ig.ignores('x'); } catch (e) { return 'error'; }
  return paths.map(p => { try { return ig.ignores(p); } catch (e) { return false; } });
});
process.stdout.write(JSON.stringify(out));
