// ESLint for the Lightning web components: Salesforce's recommended LWC rules, that is
// @lwc/eslint-plugin-lwc with the ESLint, import and Jest rules @salesforce/eslint-config-lwc adds.
const { defineConfig } = require('eslint/config');
const lwcRecommended = require('@salesforce/eslint-config-lwc/recommended');

module.exports = defineConfig([
    {
        files: ['**/lwc/**/*.js'],
        extends: [lwcRecommended]
    },
    {
        // Jest tests wait for mocked Apex with setTimeout; the rule is about timers in components.
        files: ['**/lwc/**/__tests__/**/*.js'],
        rules: {
            '@lwc/lwc/no-async-operation': 'off'
        }
    }
]);
