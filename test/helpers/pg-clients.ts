/** pg clients for tests: one connection config from a cluster URL, and clients closed together. */
import pg from 'pg';
import { parse } from 'pg-connection-string';

/** Client settings for a cluster URL, on `database` or the URL's own. */
export function clientConfig(url: string, database?: string): pg.ClientConfig {
  const params = parse(url);
  return {
    host: params.host ?? undefined,
    port: params.port ? Number(params.port) : undefined,
    user: params.user ?? undefined,
    database: database ?? params.database ?? undefined,
  };
}

/** Connected clients that a test file closes at once in afterAll. */
export class TestClients {
  private readonly clients: pg.Client[] = [];

  async connect(url: string, database?: string): Promise<pg.Client> {
    const client = new pg.Client(clientConfig(url, database));
    await client.connect();
    client.on('error', () => undefined);
    this.clients.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    for (const client of this.clients.splice(0)) await client.end().catch(() => undefined);
  }
}
