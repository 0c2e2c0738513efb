import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http.js';
import { findTable, listNamespaces, listTables } from './warehouseCatalog.js';

const iceError = (res: ServerResponse, code: number, type: string, message: string, head: boolean) =>
  sendJson(res, code, { error: { message, type, code } }, head);

/**
 * The read side of the Iceberg REST catalog protocol, under `/catalog`: config, namespaces,
 * tables and load-table. Multi-level namespaces (`a%1Fb`) do not exist in this warehouse.
 */
export async function handleCatalog(
  warehouse: string,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    return iceError(
      res,
      405,
      'NotSupportedException',
      'this catalog is read-only: tables are written by ingest',
      head,
    );
  }
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  // parts[0] === 'v1'; an optional prefix (catalog name) may follow before 'namespaces'.
  if (parts[0] !== 'v1') return iceError(res, 404, 'NotFoundException', `no route ${path}`, head);
  if (parts[1] === 'config' && parts.length === 2) {
    return sendJson(res, 200, { defaults: {}, overrides: {}, endpoints: ENDPOINTS }, head);
  }
  const rest = parts[1] === 'namespaces' ? parts.slice(1) : parts.slice(2);
  if (rest[0] !== 'namespaces') return iceError(res, 404, 'NotFoundException', `no route ${path}`, head);
  if (rest.length === 1) {
    const parent = new URL(req.url ?? '/', 'http://x').searchParams.get('parent');
    const namespaces = parent ? [] : (await listNamespaces(warehouse)).map((n) => [n]);
    return sendJson(res, 200, { namespaces }, head);
  }
  const ns = rest[1]!;
  const tables = await listTables(warehouse, ns);
  if (tables.length === 0) {
    return iceError(res, 404, 'NoSuchNamespaceException', `Namespace does not exist: ${ns}`, head);
  }
  if (rest.length === 2) return sendJson(res, 200, { namespace: [ns], properties: {} }, head);
  if (rest[2] !== 'tables') return iceError(res, 404, 'NotFoundException', `no route ${path}`, head);
  if (rest.length === 3) {
    return sendJson(res, 200, { identifiers: tables.map((name) => ({ namespace: [ns], name })) }, head);
  }
  if (rest.length === 4) {
    const loaded = await findTable(warehouse, ns, rest[3]!);
    if (!loaded)
      return iceError(res, 404, 'NoSuchTableException', `Table does not exist: ${ns}.${rest[3]}`, head);
    return sendJson(
      res,
      200,
      { 'metadata-location': loaded.metadataLocation, metadata: loaded.metadata, config: {} },
      head,
    );
  }
  return iceError(res, 404, 'NotFoundException', `no route ${path}`, head);
}

const ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
];
