// StrykerJS's mocha runner (10.1.1) requires three files of Mocha's cli without an extension; Mocha 12 ships them as
// .cjs, so the runner cannot load (the upstream fix, stryker-js pull request 6205, is not released). This plugin
// resolves those three requests to their .cjs files and then registers the maintained runner unchanged, in Stryker's
// process and in its test workers. Remove it, and name "@stryker-mutator/mocha-runner" in stryker.config.mjs again,
// once a runner release loads with Mocha 12.
import Module from "node:module";

const MOCHA_CLI = /[\\/]mocha[\\/]lib[\\/]cli[\\/](?:run-helpers|options|collect-files)$/;
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
    return resolveFilename.call(this, MOCHA_CLI.test(request) ? `${request}.cjs` : request, ...rest);
};

const runner = await import("@stryker-mutator/mocha-runner");
export const strykerPlugins = runner.strykerPlugins;
export const strykerValidationSchema = runner.strykerValidationSchema;
