import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '../../src/config.js';

const root = new URL('../../', import.meta.url);

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml and Dockerfile', () => {
  it('parse, and serve PostgreSQL 15 and Redis 7 where the CLI defaults look for them', async () => {
    const compose = parse(await readFile(new URL('docker-compose.yml', root), 'utf8')) as {
      services: Record<string, Service>;
    };
    const { postgres, redis, migrate, serve, relay } = compose.services;
    expect(postgres?.image).toBe('postgres:15');
    expect(redis?.image).toBe('redis:7');
    expect(postgres?.ports).toContain(`${new URL(DEFAULT_DATABASE_URL).port}:5432`);
    expect(redis?.ports).toContain(`${new URL(DEFAULT_REDIS_URL).port}:6379`);
    expect(redis?.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
    expect(migrate?.command).toEqual(['migrate']);
    expect(relay?.command).toEqual(['relay']);
    expect(serve?.command?.[0]).toBe('serve');
    for (const s of [relay, serve]) {
      expect(s?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    }
    expect(relay?.environment?.LAKEHOUSE_SINK_URL).toBe('http://serve:8787/ingest/{stream}');
  });

  it('builds an image whose entrypoint is the lakehouse CLI', async () => {
    const dockerfile = await readFile(new URL('Dockerfile', root), 'utf8');
    const from = dockerfile.match(/^FROM \S+/gm) ?? [];
    expect(from.length).toBeGreaterThan(0);
    expect(from.every((f) => /^FROM node:20/.test(f))).toBe(true);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/lakehouse\.js"\]$/m);
  });
});
