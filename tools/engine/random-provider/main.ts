// Entry point of the stand-in `pulumi-resource-random` plugin (the launcher next to this file runs it).
import { main } from "@pulumi/pulumi/provider";
import { randomProvider } from "./provider";

main(randomProvider, process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
});
