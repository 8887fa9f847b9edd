import { connect, type NatsConnection } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { Presence, whoHolds, type Departure } from "./presence.js";
import { recordingLogger, uniquePrefix, useTestServer, waitFor } from "./test-support.test-util.js";

// Who holds an id (a riff node's name): asked before a node joins, and told by the heartbeats
// when two processes share one anyway.
describe("Presence", () => {
  const env = useTestServer();
  const opened: { presence: Presence<unknown>; nc: NatsConnection }[] = [];
  afterEach(async () => {
    for (const { presence, nc } of opened.splice(0)) {
      presence.stop();
      await nc.close();
    }
  });

  async function member(subject: string, id: string, logger = recordingLogger(), onDepart?: (id: string, how: Departure, lastHeardAt: number) => void) {
    const nc = await connect({ servers: env.server.url });
    const presence = new Presence<{ url: string }>({ nc, subject, id, intervalMs: 50, timeoutMs: 500, state: () => ({ url: `http://${id}` }), logger, ...(onDepart ? { onDepart } : {}) });
    presence.start();
    // The server has its subscriptions once it answers a ping sent after them.
    await nc.flush();
    opened.push({ presence, nc });
    return { presence, nc, logger };
  }

  it("answers who holds an id: the holder's mark and state, or no one at once", async () => {
    const subject = `_T.${uniquePrefix()}.nodes`;
    const n1 = await member(subject, "n1");
    await member(subject, "n2");
    expect(await whoHolds(env.nc, subject, "n1", 5000)).toEqual({ instance: n1.presence.instance, state: { url: "http://n1" } });
    // Others listen on the subject too, but only a holder of the id answers: "no responders", not a timeout.
    expect(await whoHolds(env.nc, subject, "n3", 10_000)).toBeUndefined();
    n1.presence.stop();
    // Once the server has the unsubscribe (it answered a ping sent after it), n1 is free.
    await n1.nc.flush();
    expect(await whoHolds(env.nc, subject, "n1", 10_000)).toBeUndefined();
  });

  it("says so when another process sends heartbeats under its own id", async () => {
    const subject = `_T.${uniquePrefix()}.nodes`;
    const first = await member(subject, "n1");
    const second = await member(subject, "n1");
    await waitFor("both logging the other", () => [first, second].every((m) => m.logger.lines.some((l) => l.level === "error" && l.msg.startsWith("another process uses this instance's name"))));
    const line = first.logger.lines.find((l) => l.level === "error");
    expect(line?.fields).toEqual({ id: "n1", other: second.presence.instance });
    // Its own heartbeats alone never look like another's.
    const lone = `_T.${uniquePrefix()}.nodes`;
    let heard = 0;
    const sub = env.nc.subscribe(`${lone}.hb.n1`, { callback: () => heard++ });
    await env.nc.flush();
    const alone = await member(lone, "n1");
    await waitFor("five heartbeats of its own", () => heard >= 5);
    sub.unsubscribe();
    expect(alone.logger.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("tells a peer that said goodbye (left) from one whose heartbeats stopped (silent)", async () => {
    const subject = `_T.${uniquePrefix()}.nodes`;
    const departures: { id: string; how: Departure; lastHeardAt: number; noticedAt: number }[] = [];
    const watcher = await member(subject, "w", recordingLogger(), (id, how, lastHeardAt) => departures.push({ id, how, lastHeardAt, noticedAt: Date.now() }));
    const leaving = await member(subject, "leaving");
    const cut = await member(subject, "cut");
    await waitFor("both peers heard of", () => watcher.presence.live().length === 3);
    leaving.presence.stop();
    await waitFor("the goodbye", () => departures.length === 1);
    expect(departures[0]).toMatchObject({ id: "leaving", how: "left" });
    // Its connection closed without a goodbye: a killed process, or a host cut off.
    await cut.nc.close();
    await waitFor("the silence noticed", () => departures.length === 2);
    const silent = departures[1];
    expect(silent).toMatchObject({ id: "cut", how: "silent" });
    // When it was last heard of, not when its silence was noticed: a timeout (500 ms) before.
    expect((silent?.noticedAt ?? 0) - (silent?.lastHeardAt ?? 0)).toBeGreaterThan(500);
    expect(watcher.presence.live().map((p) => p.id)).toEqual(["w"]);
  });
});
