console.log('w');
