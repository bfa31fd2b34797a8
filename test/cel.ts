/**
 * A small evaluator of the subset of CEL (Common Expression Language, as Tekton's cel interceptor runs it) that
 * the testbed's trigger filters use: literals, field selection and indexing, `!`, `&&`, `||` (with CEL's
 * absorbing of errors), `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `+`, `size()`, the string functions startsWith,
 * endsWith and contains, and the macros exists, all and filter. Anything outside the subset is a parse error,
 * so a filter that grows beyond it fails its test instead of being half-evaluated.
 */

type Value = unknown;
type Env = Readonly<Record<string, Value>>;

class CelError extends Error {}

interface Token {
    kind: "num" | "str" | "id" | "op";
    text: string;
    value?: Value;
}

const OPS = ["&&", "||", "==", "!=", "<=", ">=", "!", "<", ">", "(", ")", "[", "]", ".", ",", "+"];

function tokenize(src: string): Token[] {
    const out: Token[] = [];
    let i = 0;
    while (i < src.length) {
        const ch = src[i];
        if (/\s/.test(ch)) {
            i++;
            continue;
        }
        if (ch === "'" || ch === '"') {
            let j = i + 1;
            let s = "";
            while (j < src.length && src[j] !== ch) {
                if (src[j] === "\\") {
                    s += src[j + 1];
                    j += 2;
                } else {
                    s += src[j];
                    j++;
                }
            }
            if (j >= src.length) throw new CelError(`unterminated string at ${i}`);
            out.push({ kind: "str", text: src.slice(i, j + 1), value: s });
            i = j + 1;
            continue;
        }
        const num = /^\d+(\.\d+)?/.exec(src.slice(i));
        if (num) {
            out.push({ kind: "num", text: num[0], value: Number(num[0]) });
            i += num[0].length;
            continue;
        }
        const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
        if (id) {
            out.push({ kind: "id", text: id[0] });
            i += id[0].length;
            continue;
        }
        const op = OPS.find((o) => src.startsWith(o, i));
        if (!op) throw new CelError(`unexpected character ${ch} at ${i}`);
        out.push({ kind: "op", text: op });
        i += op.length;
    }
    return out;
}

type Node =
    | { t: "lit"; v: Value }
    | { t: "id"; name: string }
    | { t: "sel"; of: Node; field: string }
    | { t: "idx"; of: Node; index: Node }
    | { t: "call"; fn: string; target: Node | null; args: Node[] }
    | { t: "macro"; fn: string; target: Node; v: string; body: Node }
    | { t: "un"; op: string; x: Node }
    | { t: "bin"; op: string; a: Node; b: Node };

const MACROS = new Set(["exists", "all", "filter"]);

function parse(src: string): Node {
    const toks = tokenize(src);
    let p = 0;
    const peek = () => toks[p];
    const isOp = (text: string) => peek()?.kind === "op" && peek().text === text;
    const expect = (text: string) => {
        if (!isOp(text)) throw new CelError(`expected ${text} at token ${p} (${peek()?.text ?? "end"})`);
        p++;
    };
    const binary =
        (next: () => Node, ops: string[]): (() => Node) =>
        () => {
            let a = next();
            for (;;) {
                const t = peek();
                const op =
                    t &&
                    ((t.kind === "op" && ops.includes(t.text)) ||
                        (t.kind === "id" && t.text === "in" && ops.includes("in")))
                        ? t.text
                        : null;
                if (!op) return a;
                p++;
                a = { t: "bin", op, a, b: next() };
            }
        };
    const primary = (): Node => {
        const t = toks[p++];
        if (!t) throw new CelError("unexpected end");
        if (t.kind === "num" || t.kind === "str") return { t: "lit", v: t.value };
        if (t.kind === "id") {
            if (t.text === "true" || t.text === "false") return { t: "lit", v: t.text === "true" };
            if (t.text === "null") return { t: "lit", v: null };
            if (isOp("(")) {
                p++;
                const args = list(")");
                return { t: "call", fn: t.text, target: null, args };
            }
            return { t: "id", name: t.text };
        }
        if (t.text === "(") {
            const e = or();
            expect(")");
            return e;
        }
        throw new CelError(`unexpected ${t.text}`);
    };
    const list = (close: string): Node[] => {
        const args: Node[] = [];
        if (isOp(close)) {
            p++;
            return args;
        }
        for (;;) {
            args.push(or());
            if (isOp(close)) {
                p++;
                return args;
            }
            expect(",");
        }
    };
    const member = (): Node => {
        let e = primary();
        for (;;) {
            if (isOp(".")) {
                p++;
                const name = toks[p++];
                if (name?.kind !== "id") throw new CelError("expected a field name after .");
                if (isOp("(")) {
                    p++;
                    const args = list(")");
                    if (MACROS.has(name.text)) {
                        const [v, body] = args;
                        if (args.length !== 2 || v.t !== "id")
                            throw new CelError(`${name.text}() takes a variable and an expression`);
                        e = { t: "macro", fn: name.text, target: e, v: v.name, body };
                    } else e = { t: "call", fn: name.text, target: e, args };
                } else e = { t: "sel", of: e, field: name.text };
            } else if (isOp("[")) {
                p++;
                const index = or();
                expect("]");
                e = { t: "idx", of: e, index };
            } else return e;
        }
    };
    const unary = (): Node => (isOp("!") ? (p++, { t: "un", op: "!", x: unary() }) : member());
    const add = binary(unary, ["+"]);
    const rel = binary(add, ["==", "!=", "<", "<=", ">", ">=", "in"]);
    const and = binary(rel, ["&&"]);
    const or = binary(and, ["||"]);
    const e = or();
    if (p !== toks.length) throw new CelError(`unexpected ${toks[p].text} after the expression`);
    return e;
}

const isMap = (v: Value): v is Record<string, Value> => typeof v === "object" && v !== null && !Array.isArray(v);

function bool(v: Value, what: string): boolean {
    if (typeof v !== "boolean") throw new CelError(`${what} is not a bool: ${JSON.stringify(v)}`);
    return v;
}

function str(v: Value, what: string): string {
    if (typeof v !== "string") throw new CelError(`${what} is not a string: ${JSON.stringify(v)}`);
    return v;
}

function list(v: Value, what: string): Value[] {
    if (!Array.isArray(v)) throw new CelError(`${what} is not a list: ${JSON.stringify(v)}`);
    return v;
}

function evaluate(n: Node, env: Env): Value {
    switch (n.t) {
        case "lit":
            return n.v;
        case "id":
            if (!(n.name in env)) throw new CelError(`undeclared reference to ${n.name}`);
            return env[n.name];
        case "sel": {
            const of = evaluate(n.of, env);
            if (!isMap(of) || !(n.field in of)) throw new CelError(`no such key: ${n.field}`);
            return of[n.field];
        }
        case "idx": {
            const of = evaluate(n.of, env);
            const i = evaluate(n.index, env);
            if (Array.isArray(of) && typeof i === "number" && i >= 0 && i < of.length) return of[i];
            if (isMap(of) && typeof i === "string" && i in of) return of[i];
            throw new CelError(`no such key or index: ${JSON.stringify(i)}`);
        }
        case "un":
            return !bool(evaluate(n.x, env), "operand of !");
        case "macro": {
            const items = list(evaluate(n.target, env), `target of ${n.fn}`);
            const test = (item: Value) => bool(evaluate(n.body, { ...env, [n.v]: item }), `${n.fn} predicate`);
            if (n.fn === "exists") return items.some(test);
            if (n.fn === "all") return items.every(test);
            return items.filter(test);
        }
        case "call": {
            if (n.target === null && n.fn === "has") {
                // has(e.f): whether the map e has the key f (the macro tests presence; e itself must evaluate).
                const [arg] = n.args;
                if (n.args.length !== 1 || arg.t !== "sel") throw new CelError("has() takes one field selection");
                const of = evaluate(arg.of, env);
                return isMap(of) && arg.field in of;
            }
            const args = n.args.map((a) => evaluate(a, env));
            if (n.target === null) {
                if (n.fn === "size" && args.length === 1) return size(args[0]);
                throw new CelError(`unknown function ${n.fn}`);
            }
            const target = evaluate(n.target, env);
            switch (n.fn) {
                case "startsWith":
                    return str(target, "target").startsWith(str(args[0], "argument"));
                case "endsWith":
                    return str(target, "target").endsWith(str(args[0], "argument"));
                case "contains":
                    return str(target, "target").includes(str(args[0], "argument"));
                case "size":
                    return size(target);
                default:
                    throw new CelError(`unknown method ${n.fn}`);
            }
        }
        case "bin": {
            if (n.op === "&&" || n.op === "||") {
                const decisive = n.op === "||";
                let left: boolean | CelError;
                try {
                    left = bool(evaluate(n.a, env), `left of ${n.op}`);
                } catch (e) {
                    if (!(e instanceof CelError)) throw e;
                    left = e;
                }
                if (left === decisive) return decisive;
                const right = bool(evaluate(n.b, env), `right of ${n.op}`);
                if (right === decisive) return decisive;
                if (left instanceof CelError) throw left;
                return !decisive;
            }
            const a = evaluate(n.a, env);
            const b = evaluate(n.b, env);
            switch (n.op) {
                case "==":
                    return equal(a, b);
                case "!=":
                    return !equal(a, b);
                case "in":
                    if (Array.isArray(b)) return b.some((x) => equal(x, a));
                    if (isMap(b)) return typeof a === "string" && a in b;
                    throw new CelError("right of in is not a list or map");
                case "+":
                    if (typeof a === "string" && typeof b === "string") return a + b;
                    if (typeof a === "number" && typeof b === "number") return a + b;
                    return [...list(a, "left of +"), ...list(b, "right of +")];
                default: {
                    if (typeof a !== typeof b || (typeof a !== "number" && typeof a !== "string"))
                        throw new CelError(`no such overload: ${n.op}`);
                    const x = a as number | string;
                    const y = b as number | string;
                    return n.op === "<" ? x < y : n.op === "<=" ? x <= y : n.op === ">" ? x > y : x >= y;
                }
            }
        }
    }
}

function size(v: Value): number {
    if (typeof v === "string" || Array.isArray(v)) return v.length;
    if (isMap(v)) return Object.keys(v).length;
    throw new CelError("size() of a value without a size");
}

function equal(a: Value, b: Value): boolean {
    if (typeof a !== typeof b) {
        if (a === null || b === null) return false;
        throw new CelError(`no such overload: == between ${typeof a} and ${typeof b}`);
    }
    return JSON.stringify(a) === JSON.stringify(b);
}

/** Evaluates a CEL expression; a runtime error (missing key, wrong type) is thrown as Error("cel: ..."). */
export function evalCel(expr: string, env: Env): Value {
    try {
        return evaluate(parse(expr), env);
    } catch (e) {
        if (e instanceof CelError) throw new Error(`cel: ${e.message}`);
        throw e;
    }
}

/** Checks a CEL expression parses within the subset (throws otherwise). */
export function parseCel(expr: string): void {
    try {
        parse(expr);
    } catch (e) {
        if (e instanceof CelError) throw new Error(`cel: ${e.message}`);
        throw e;
    }
}
