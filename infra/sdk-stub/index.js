// Stands in for every AWS SDK package in the reachability build of infra/package.ts
// (bundleSources): declared free of side effects, so a file whose code the function
// never runs is dropped even though it imports the SDK. Never deployed.
module.exports = {};
