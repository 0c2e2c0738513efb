import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `host:port` of the proxy. */
  readonly address: string;
  /**
   * Every open connection goes half-open: the proxy drops its side towards the server (the
   * server sees the client gone and ends the session) and keeps the client's socket open
   * but silent (no data, no FIN, no RST), as after a network partition. New connections
   * work normally.
   */
  goSilent(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target` (e.g. PostgreSQL) on a free port of 127.0.0.1. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const silenced: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', () => {
      if (pairs.has(pair)) drop();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    goSilent() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.client.removeAllListeners('close');
        pair.client.on('error', () => {});
        pair.upstream.destroy();
        silenced.push(pair.client);
      }
    },
    async close() {
      for (const s of silenced) s.destroy();
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
