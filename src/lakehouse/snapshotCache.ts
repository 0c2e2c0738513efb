import { liveDataFiles } from './manifests.js';
import type { TableMetadata } from './types.js';

type Files = Awaited<ReturnType<typeof liveDataFiles>>;

/** Snapshots whose file lists are kept; a warm query process answers repeated queries from here. */
const MAX_ENTRIES = 64;
const cache = new Map<string, Promise<Files>>();

/**
 * The live data files of a table's current snapshot, read from its manifests once per
 * snapshot: a snapshot's manifest list and manifests are immutable files, so the answer for a
 * given manifest list never changes. A failed read is not kept.
 */
export function cachedLiveDataFiles(metadata: TableMetadata): Promise<Files> {
  const snap = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  if (!snap) return liveDataFiles(metadata);
  const key = `${metadata['table-uuid']} ${snap['manifest-list']} ${metadata['current-schema-id']}`;
  let hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  hit = liveDataFiles(metadata);
  cache.set(key, hit);
  hit.catch(() => cache.delete(key));
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return hit;
}
