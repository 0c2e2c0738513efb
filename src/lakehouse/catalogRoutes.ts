import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http.js';
import { findTable, listNamespaces, listTables } from './warehouseCatalog.js';

/** An error in the Iceberg REST `ErrorModel` shape (`{"error": {message, type, code}}`). */
const iceError = (res: ServerResponse, code: number, type: string, message: string, head: boolean) =>
  sendJson(res, code, { error: { message, type, code } }, head);

/** A success: the JSON body, or for HEAD (an existence check) 204 No Content, as the spec answers. */
function ok(res: ServerResponse, body: unknown, head: boolean): void {
  if (head) {
    res.writeHead(204);
    res.end();
  } else {
    sendJson(res, 200, body);
  }
}

/**
 * The read side of the Iceberg REST catalog protocol, under `/catalog`: config, namespaces,
 * tables and load-table. Multi-level namespaces (`a%1Fb`) do not exist in this warehouse.
 * Every error, an unexpected one too (500, e.g. an unreadable metadata file), is answered in
 * the Iceberg error JSON that catalog clients parse.
 */
export async function handleCatalog(
  warehouse: string,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const head = req.method === 'HEAD';
  try {
    await route(warehouse, req, res, path, head);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof URIError) {
      return iceError(res, 400, 'BadRequestException', 'malformed percent-escape in the path', head);
    }
    iceError(res, 500, 'InternalServerError', `catalog: ${(e as Error).message ?? String(e)}`, head);
  }
}

async function route(
  warehouse: string,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  head: boolean,
): Promise<void> {
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
    return ok(res, { defaults: {}, overrides: {}, endpoints: ENDPOINTS }, head);
  }
  const rest = parts[1] === 'namespaces' ? parts.slice(1) : parts.slice(2);
  if (rest[0] !== 'namespaces') return iceError(res, 404, 'NotFoundException', `no route ${path}`, head);
  if (rest.length === 1) {
    const parent = new URL(req.url ?? '/', 'http://x').searchParams.get('parent');
    const namespaces = parent ? [] : (await listNamespaces(warehouse)).map((n) => [n]);
    return ok(res, { namespaces }, head);
  }
  const ns = rest[1]!;
  const tables = await listTables(warehouse, ns);
  if (tables.length === 0) {
    return iceError(res, 404, 'NoSuchNamespaceException', `Namespace does not exist: ${ns}`, head);
  }
  if (rest.length === 2) return ok(res, { namespace: [ns], properties: {} }, head);
  if (rest[2] !== 'tables') return iceError(res, 404, 'NotFoundException', `no route ${path}`, head);
  if (rest.length === 3) {
    return ok(res, { identifiers: tables.map((name) => ({ namespace: [ns], name })) }, head);
  }
  if (rest.length === 4) {
    const loaded = await findTable(warehouse, ns, rest[3]!);
    if (!loaded)
      return iceError(res, 404, 'NoSuchTableException', `Table does not exist: ${ns}.${rest[3]}`, head);
    return ok(
      res,
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
