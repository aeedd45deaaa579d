// Jest for the Lightning web components' tests (force-app/**/lwc/**/__tests__): run `npm run test:unit`.
const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

module.exports = {
    ...jestConfig,
    modulePathIgnorePatterns: ['<rootDir>/.localdevserver'],
    // The golden cases' expected trees hold components of other projects, which resolve only in a
    // project of their own: tests/test_lwc.py runs their tests that way.
    testPathIgnorePatterns: [...jestConfig.testPathIgnorePatterns, '<rootDir>/tests/cases/']
};
