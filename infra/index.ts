// Entry point of `pulumi up`: the exported function's result becomes the stack outputs.
import { program } from "./program";

export = program;
