import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const ANY = new Set(['0.0.0.0', '::', '']);

/** True when `host` (a listen address) is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\./.test(host);
}

/** Compares a secret in constant time. */
export function sameSecret(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when the request carries `Authorization: Bearer <token>` (or no token is configured). */
export function bearerOk(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  return sameSecret(String(req.headers.authorization ?? ''), `Bearer ${token}`);
}

/** The host name of a Host header (`[::1]:8787` → `::1`, `Example.com:80` → `example.com`). */
function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  if (v6) return v6[1]!;
  return h.replace(/:\d+$/, '');
}

/**
 * The Host header values the server answers: loopback names, the address it is bound to (for
 * a wildcard address, every address of this machine and its host name) and `extra`. Any other
 * Host is refused, so a page on another domain resolving to this machine (DNS rebinding)
 * cannot read it.
 */
export function allowedHosts(bound: string, extra: string[] = []): Set<string> {
  const set = new Set<string>([...LOOPBACK, bound.toLowerCase(), ...extra.map((h) => hostOf(h))]);
  if (ANY.has(bound)) {
    set.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) set.add(a.address.toLowerCase());
    }
  }
  return set;
}

/** Why a request must be refused before any route sees it, or undefined. */
export function refuseRequest(req: IncomingMessage, hosts: Set<string>): string | undefined {
  const host = req.headers.host;
  if (!host || !hosts.has(hostOf(host))) {
    return `Host "${String(host ?? '')}" is not an address of this server (add it with --allowed-host)`;
  }
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return undefined;
  // A state-changing request from a browser page of another origin (CSRF) is refused: browsers
  // send Origin on every cross-origin POST, and Sec-Fetch-Site on every request they make.
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      originHost = undefined;
    }
    if (originHost !== host.trim().toLowerCase()) return `cross-origin request from ${origin} refused`;
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `cross-site request (Sec-Fetch-Site: ${site}) refused`;
  }
  return undefined;
}
