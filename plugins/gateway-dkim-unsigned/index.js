// Haraka loads this package; the TypeScript source is plugin.ts, compiled by `npm run build`.
module.exports = require('../../dist/plugins/gateway-dkim-unsigned/plugin.js')
