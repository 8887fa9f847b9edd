import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";

/** How long a link may take to report itself up (and its bridge port forwarding) after `restore`. */
const LINK_UP_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 20;

/** What {@link createNetworkTopology} builds. */
export interface NetworkTopologyOptions {
  /** How many node namespaces hang off the hub. */
  nodes: number;
  /** Up to 4 lowercase letters or digits put in front of the random part of every name. */
  tag?: string;
}

/** A network namespace and its address on the topology's subnet. */
export interface NetworkEndpoint {
  netns: string;
  ip: string;
}

/**
 * A hub namespace with a bridge, the root namespace and N node namespaces each on a veth into
 * that bridge, all on one private /24: node namespaces look like separate hosts, and a node's
 * link can be cut and restored.
 */
export interface NetworkTopology {
  /** The unique part of every namespace and link name (`rf<id>...`): grep `ip netns list` for it. */
  readonly id: string;
  /** The /24 in use, as `10.x.y.0/24`. */
  readonly subnet: string;
  /** Holds the bridge; its address is the bridge's, so servers can run here and listen on it. */
  readonly hub: NetworkEndpoint;
  /** This process's address on the subnet (a veth from the root namespace into the bridge). */
  readonly root: { ip: string };
  /** Node k (1-based, as in `cut(k)`) is `nodes[k - 1]`, at `.(10 + k)` on the subnet. */
  readonly nodes: NetworkEndpoint[];
  /**
   * Spawns `command` inside `netns`. `ip netns exec` execs the command, so the child's pid is
   * the program's own. Children still running at `destroy()` are SIGKILLed there.
   */
  exec(netns: string, command: string, args?: string[], options?: SpawnOptions): ChildProcess;
  /** Takes node k's link down on the hub side: it reaches no one and no one reaches it. */
  cut(k: number): Promise<void>;
  /** Brings node k's link back and resolves once it carries traffic again. */
  restore(k: number): Promise<void>;
  /** Whether node k's link is cut. */
  isolated(k: number): boolean;
  /**
   * Kills what `exec` started and still runs, deletes every namespace and link made here.
   * Idempotent. Stop servers started in its namespaces by other means first: a namespace
   * outlives its name while a process is in it.
   */
  destroy(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Runs `ip ...args`, rejecting with its stderr. */
function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("ip", args, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(`ip ${args.join(" ")}: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}

/** Fails with what is missing (the `ip` tool, or root) rather than letting a test skip quietly. */
async function checkPrerequisites(): Promise<void> {
  await ip(["-V"]).catch((err: Error & { cause?: NodeJS.ErrnoException }) => {
    throw new Error(`needs the ip command (iproute2) to create network namespaces: ${err.cause?.code ?? err.message}`);
  });
  if (process.getuid?.() !== 0) throw new Error("needs root to create network namespaces (ip netns)");
}

const toInt = (addr: string) => addr.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);

/** Every IPv4 prefix the root namespace already has (addresses and routes), as [network, length]. */
async function takenPrefixes(): Promise<[number, number][]> {
  const addrs = JSON.parse(await ip(["-j", "-4", "addr"])) as { addr_info?: { local: string; prefixlen: number }[] }[];
  const routes = JSON.parse(await ip(["-j", "-4", "route", "show", "table", "all"])) as { dst: string }[];
  const fromAddrs = addrs.flatMap((a) => a.addr_info ?? []).map((a): [number, number] => [toInt(a.local), a.prefixlen]);
  const fromRoutes = routes
    .filter((r) => r.dst !== "default")
    .map((r): [number, number] => {
      const [net = "", len = "32"] = r.dst.split("/");
      return [toInt(net), Number(len)];
    });
  return [...fromAddrs, ...fromRoutes];
}

/** A 10.x.y.0/24 that overlaps nothing the machine routes; random so parallel test files differ. */
async function pickSubnet(): Promise<string> {
  const taken = await takenPrefixes();
  const overlaps = (net: number) =>
    taken.some(([other, len]) => {
      const bits = Math.min(len, 24);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return ((net & mask) >>> 0) === ((other & mask) >>> 0);
    });
  for (let tries = 0; tries < 50; tries++) {
    const prefix = `10.${randomInt(16, 250)}.${randomInt(1, 255)}`;
    if (!overlaps(toInt(`${prefix}.0`))) return prefix;
  }
  throw new Error("found no free 10.x.y.0/24 for a test network in 50 tries");
}

/**
 * Builds the hub-and-spoke topology. Interface names stay within Linux's 15 characters:
 * `rf` + a 4-to-8-character id + a 1-to-3-character suffix. If any step fails, what was made
 * so far is taken down again before the error is thrown.
 */
export async function createNetworkTopology(options: NetworkTopologyOptions): Promise<NetworkTopology> {
  await checkPrerequisites();
  const tag = options.tag ?? "";
  if (!/^[a-z0-9]{0,4}$/.test(tag)) throw new Error(`topology tag ${JSON.stringify(tag)}: up to 4 of a-z, 0-9`);
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 99) throw new Error("nodes: 1 to 99");
  const id = `${tag}${randomBytes(2).toString("hex")}`;
  const prefix = await pickSubnet();
  const hub = { netns: `rf${id}-hub`, ip: `${prefix}.1` };
  const bridge = `rf${id}br`;
  const rootLink = `rf${id}r`;
  const nodes = Array.from({ length: options.nodes }, (_, i) => ({ netns: `rf${id}-n${i + 1}`, ip: `${prefix}.${i + 11}` }));
  const hubSide = (k: number) => `rf${id}h${k}`;
  const nodeSide = (k: number) => `rf${id}n${k}`;
  const children = new Set<ChildProcess>();
  const cutLinks = new Set<number>();
  const namespaces = [hub.netns, ...nodes.map((n) => n.netns)];
  // A test process that dies before destroy() would leave namespaces behind for the whole machine.
  const onExit = () => {
    for (const args of [["link", "del", rootLink], ...namespaces.map((ns) => ["netns", "del", ns])]) {
      try {
        execFileSync("ip", args, { stdio: "ignore" });
      } catch {
        // Already gone, or never made.
      }
    }
  };
  process.once("exit", onExit);

  const nodeIndex = (k: number) => {
    if (!Number.isInteger(k) || k < 1 || k > nodes.length) throw new Error(`no node ${k}: nodes are 1..${nodes.length}`);
    return k;
  };
  const waitForLinkUp = async (k: number) => {
    const deadline = Date.now() + LINK_UP_TIMEOUT_MS;
    for (;;) {
      const [node] = JSON.parse(await ip(["-j", "-n", nodes[k - 1]?.netns ?? "", "link", "show", "dev", nodeSide(k)])) as { operstate: string }[];
      const [port] = JSON.parse(await ip(["-j", "-d", "-n", hub.netns, "link", "show", "dev", hubSide(k)])) as {
        linkinfo?: { info_slave_data?: { state?: string } };
      }[];
      const state = port?.linkinfo?.info_slave_data?.state;
      if (node?.operstate === "UP" && state === "forwarding") return;
      if (Date.now() >= deadline) throw new Error(`node ${k}'s link is ${node?.operstate ?? "?"}, bridge port ${state ?? "?"} after ${LINK_UP_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  };

  let destroyed: Promise<void> | undefined;
  const topology: NetworkTopology = {
    id,
    subnet: `${prefix}.0/24`,
    hub,
    root: { ip: `${prefix}.2` },
    nodes,
    exec(netns, command, args = [], spawnOptions = {}) {
      const child = spawn("ip", ["netns", "exec", netns, command, ...args], spawnOptions);
      children.add(child);
      child.once("exit", () => children.delete(child));
      return child;
    },
    async cut(k) {
      await ip(["-n", hub.netns, "link", "set", hubSide(nodeIndex(k)), "down"]);
      cutLinks.add(k);
    },
    async restore(k) {
      await ip(["-n", hub.netns, "link", "set", hubSide(nodeIndex(k)), "up"]);
      await waitForLinkUp(k);
      cutLinks.delete(k);
    },
    isolated: (k) => cutLinks.has(nodeIndex(k)),
    destroy() {
      destroyed ??= (async () => {
        await Promise.all(
          [...children].map((child) => {
            const exited = new Promise((resolve) => child.once("exit", resolve));
            try {
              if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
            } catch {
              // Exited already; its exit event is on its way.
            }
            return exited;
          }),
        );
        // The root's link first: a deleted namespace takes its veths (and their peers) with it,
        // but the kernel does that later, and the root's route to the subnet should not linger.
        const results = [await ip(["link", "del", rootLink]).then(() => undefined, (e: Error) => e)];
        results.push(...(await Promise.all(namespaces.map((ns) => ip(["netns", "del", ns]).then(() => undefined, (e: Error) => e)))));
        process.removeListener("exit", onExit);
        const errors = results.flatMap((e) => (e === undefined ? [] : [e.message]));
        const real = errors.filter((m) => !/Cannot find device|No such file or directory/.test(m));
        if (real.length > 0) throw new Error(`topology ${id} not fully removed:\n${real.join("\n")}`);
      })();
      return destroyed;
    },
    [Symbol.asyncDispose]: () => topology.destroy(),
  };

  try {
    await ip(["netns", "add", hub.netns]);
    await ip(["-n", hub.netns, "link", "set", "lo", "up"]);
    await ip(["-n", hub.netns, "link", "add", bridge, "type", "bridge"]);
    await ip(["-n", hub.netns, "addr", "add", `${hub.ip}/24`, "dev", bridge]);
    await ip(["-n", hub.netns, "link", "set", bridge, "up"]);
    await ip(["link", "add", rootLink, "type", "veth", "peer", "name", `${rootLink}h`, "netns", hub.netns]);
    await ip(["addr", "add", `${topology.root.ip}/24`, "dev", rootLink]);
    await ip(["link", "set", rootLink, "up"]);
    await ip(["-n", hub.netns, "link", "set", `${rootLink}h`, "master", bridge, "up"]);
    for (const [i, node] of nodes.entries()) {
      const k = i + 1;
      await ip(["netns", "add", node.netns]);
      await ip(["-n", node.netns, "link", "set", "lo", "up"]);
      // Made inside the hub, so the names never meet the root namespace's interfaces.
      await ip(["-n", hub.netns, "link", "add", hubSide(k), "type", "veth", "peer", "name", nodeSide(k), "netns", node.netns]);
      await ip(["-n", hub.netns, "link", "set", hubSide(k), "master", bridge, "up"]);
      await ip(["-n", node.netns, "addr", "add", `${node.ip}/24`, "dev", nodeSide(k)]);
      await ip(["-n", node.netns, "link", "set", nodeSide(k), "up"]);
    }
    for (let k = 1; k <= nodes.length; k++) await waitForLinkUp(k);
  } catch (err) {
    await topology.destroy().catch(() => undefined);
    throw err;
  }
  return topology;
}
