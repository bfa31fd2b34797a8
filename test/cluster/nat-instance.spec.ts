/**
 * The NAT instance's boot script (components/aws/network.ts, NAT_INSTANCE_USER_DATA) run for real on Linux's network
 * stack. Three network namespaces stand for a node in a private subnet, the NAT instance (an interface in the private
 * subnet, one in the public subnet with the default route) and a host on the internet. Before the script the node
 * reaches nothing outside; after it, the node's connection arrives from the NAT's public address: forwarded and
 * masqueraded. What only Amazon Linux has is recorded, not run: `dnf`, `systemctl` and `service` are stubs on PATH
 * that log their arguments. `sysctl --system` and iptables run for real, in the NAT's network namespace and a mount
 * namespace of their own whose sysctl folders hold only what the script writes, so nothing of this machine changes.
 * Needs root and iptables (tools/install-debian-packages.sh).
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NAT_INSTANCE_USER_DATA } from "../../components/aws/network";

/** The addresses of the three hosts: a documentation range stands for the internet. */
const NODE_IP = "10.0.16.10";
const NAT_PRIVATE_IP = "10.0.16.1";
const NAT_PUBLIC_IP = "198.51.100.2";
const INTERNET_IP = "198.51.100.1";
const PORT = 8080;

/** Folders `sysctl --system` reads (procps): each is hidden behind an empty tmpfs while the script runs. */
const SYSCTL_FOLDERS = [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/** One connection from `namespace` to the internet host: what it answered (the address it saw), or the error. */
function connectFrom(namespace: string): string {
    const r = spawnSync(
        "ip",
        [
            "netns",
            "exec",
            namespace,
            "python3",
            "-c",
            "import socket, sys\n" +
                "try:\n" +
                `    c = socket.create_connection((${JSON.stringify(INTERNET_IP)}, ${PORT}), timeout=2)\n` +
                "    print(c.recv(100).decode())\n" +
                "except OSError as e:\n" +
                "    print(f'error: {e}')\n",
        ],
        { encoding: "utf8", timeout: 10_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
}

describe("the NAT instance's boot script on Linux networking", function () {
    this.timeout(60_000);
    const id = process.pid;
    const ns = { node: `mlops-node-${id}`, nat: `mlops-nat-${id}`, internet: `mlops-net-${id}` };
    const link = { node: `vn${id}`, natPrivate: `vp${id}`, natPublic: `vu${id}`, internet: `vi${id}` };
    const ip = (...args: string[]) => execFileSync("ip", args, { encoding: "utf8" });
    let dir: string;
    let server: ChildProcess | undefined;
    let script: SpawnSyncReturns<string> | undefined;

    before(async () => {
        assert.equal(process.getuid?.(), 0, "network namespaces need root");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-nat-"));
        for (const n of Object.values(ns)) ip("netns", "add", n);
        ip("link", "add", link.node, "type", "veth", "peer", "name", link.natPrivate);
        ip("link", "set", link.node, "netns", ns.node);
        ip("link", "set", link.natPrivate, "netns", ns.nat);
        ip("link", "add", link.natPublic, "type", "veth", "peer", "name", link.internet);
        ip("link", "set", link.natPublic, "netns", ns.nat);
        ip("link", "set", link.internet, "netns", ns.internet);
        const up = (n: string, dev: string, cidr: string) => {
            ip("-n", n, "addr", "add", cidr, "dev", dev);
            ip("-n", n, "link", "set", dev, "up");
            ip("-n", n, "link", "set", "lo", "up");
        };
        up(ns.node, link.node, `${NODE_IP}/24`);
        up(ns.nat, link.natPrivate, `${NAT_PRIVATE_IP}/24`);
        up(ns.nat, link.natPublic, `${NAT_PUBLIC_IP}/24`);
        up(ns.internet, link.internet, `${INTERNET_IP}/24`);
        // The private subnet's route table sends everything to the NAT; the NAT's default route is the public side.
        ip("-n", ns.node, "route", "add", "default", "via", NAT_PRIVATE_IP);
        ip("-n", ns.nat, "route", "add", "default", "via", INTERNET_IP);

        // The internet host answers each connection with the address it came from.
        server = spawn("ip", [
            "netns",
            "exec",
            ns.internet,
            "python3",
            "-c",
            "import socket\n" +
                "s = socket.socket()\n" +
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n" +
                `s.bind((${JSON.stringify(INTERNET_IP)}, ${PORT}))\n` +
                "s.listen()\n" +
                "print('ready', flush=True)\n" +
                "while True:\n" +
                "    c, peer = s.accept()\n" +
                "    c.sendall(peer[0].encode())\n" +
                "    c.close()\n",
        ]);
        await new Promise<void>((resolve, reject) => {
            server!.stdout!.once("data", () => resolve());
            server!.once("exit", (code) => reject(new Error(`the internet host's server exited (${code})`)));
        });
    });

    after(() => {
        server?.kill();
        for (const n of Object.values(ns)) spawnSync("ip", ["netns", "del", n]);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("leaves the private node without the internet before it runs", () => {
        assert.match(connectFrom(ns.node), /^error: /);
    });

    it("runs to the end on the NAT, installing and saving iptables as Amazon Linux does", () => {
        const stubs = path.join(dir, "stubs");
        const calls = path.join(dir, "calls.log");
        fs.mkdirSync(stubs);
        for (const tool of ["dnf", "systemctl", "service"])
            fs.writeFileSync(path.join(stubs, tool), `#!/bin/sh\necho "${tool} $*" >> "${calls}"\n`, { mode: 0o755 });
        const userData = path.join(dir, "user-data.sh");
        fs.writeFileSync(userData, NAT_INSTANCE_USER_DATA, { mode: 0o755 });
        const hide = SYSCTL_FOLDERS.filter((d) => fs.existsSync(d))
            .map((d) => `mount -t tmpfs tmpfs ${d}`)
            .concat(fs.existsSync("/etc/sysctl.conf") ? ["mount --bind /dev/null /etc/sysctl.conf"] : []);
        script = spawnSync(
            "ip",
            [
                "netns",
                "exec",
                ns.nat,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                `set -e; ${hide.join("; ")}; PATH="${stubs}:$PATH" exec bash "${userData}"`,
            ],
            { encoding: "utf8", timeout: 30_000 },
        );
        assert.equal(script.status, 0, `${script.stdout}\n${script.stderr}`);
        assert.deepEqual(fs.readFileSync(calls, "utf8").trim().split("\n"), [
            "dnf install -y iptables-services",
            "systemctl enable --now iptables",
            "service iptables save",
        ]);
        // sysctl --system applied the script's file and nothing of this machine's.
        assert.deepEqual(
            script.stdout.split("\n").filter((l) => l.startsWith("* Applying")),
            ["* Applying /etc/sysctl.d/90-nat.conf ..."],
        );
        const forwarding = ip("netns", "exec", ns.nat, "cat", "/proc/sys/net/ipv4/ip_forward");
        assert.equal(forwarding.trim(), "1");
        const nat = ip("netns", "exec", ns.nat, "iptables", "-t", "nat", "-S", "POSTROUTING");
        assert.match(nat, new RegExp(`^-A POSTROUTING -o ${link.natPublic} -j MASQUERADE$`, "m"));
    });

    it("gives the private node the internet through the NAT's public address", () => {
        assert.ok(script, "the boot script ran");
        assert.equal(connectFrom(ns.node), NAT_PUBLIC_IP);
    });
});
