/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a preload of Azurite's CommonJS process */
// Preloaded into Azurite's process (test/store-contract.spec.ts): Azurite requires its telemetry SDK
// (applicationinsights, ~1 s of CPU to load) at start-up even when --disableTelemetry means it is never called.
// Here it gets an empty module instead; were telemetry ever switched on, Azurite's init would fail on it and log so,
// and nothing would be sent.
const Module = require("node:module");

const load = Module._load;
Module._load = function (request, ...rest) {
    return request === "applicationinsights" ? {} : load.call(this, request, ...rest);
};
