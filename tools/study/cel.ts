/**
 * Tekton Triggers' CEL interceptor (v0.37) as the tests need it, on @marcbachmann/cel-js (CEL's standard
 * definitions, macros and error absorption in && and ||): the variables the interceptor declares (`body` as dyn
 * JSON, `header` as Go's http.Header, `requestURL`, `extensions`) and none of Tekton's own functions (compareSecret,
 * parseJSON, parseURL, marshalJSON, ...), since no trigger filter uses one: a filter that starts to fails to
 * type-check here instead of being evaluated with a guess. (cel-js also has the common string functions such as
 * split and lowerAscii built in; no filter uses those either.)
 */
import { Environment } from "@marcbachmann/cel-js";

const tekton = new Environment()
    .registerVariable("body", "dyn")
    .registerVariable("header", "map<string, list<string>>")
    .registerVariable("requestURL", "string")
    .registerVariable("extensions", "map<string, dyn>");

/** The interceptor's input: the JSON body, canonical header keys with their values, the URL and extensions. */
export interface CelInput {
    readonly body: unknown;
    readonly header: Readonly<Record<string, readonly string[]>>;
    readonly requestURL?: string;
    readonly extensions?: Readonly<Record<string, unknown>>;
}

/** Evaluates a filter as the interceptor does; a runtime error (missing key, wrong type) throws "cel: ...". */
export function evalCel(expr: string, input: CelInput): unknown {
    try {
        return tekton.evaluate(expr, { requestURL: "/", extensions: {}, ...input });
    } catch (e) {
        throw new Error(`cel: ${(e as Error).message}`, { cause: e });
    }
}

/** Type-checks a filter in the interceptor's environment: it must parse, use only declared names, and yield bool. */
export function checkCel(expr: string): void {
    let result;
    try {
        result = tekton.check(expr);
    } catch (e) {
        throw new Error(`cel: ${(e as Error).message}`, { cause: e });
    }
    if (!result.valid) throw new Error(`cel: ${result.error?.message ?? "does not type-check"}`);
    if (result.type !== "bool" && result.type !== "dyn")
        throw new Error(`cel: a filter must yield bool, not ${result.type}`);
}
