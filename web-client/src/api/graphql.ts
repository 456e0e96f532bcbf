// Typed operations: `graphql()` is checked against schema.graphql by gql.tada (the build runs
// `tsc`, so a query that no longer matches the schema fails it). Queries and mutations go over
// HTTP; subscriptions over graphql-ws (graphql-transport-ws), both with the session's token.
import { initGraphQLTada, type ResultOf, type VariablesOf, type TadaDocumentNode } from 'gql.tada';
import { print } from '@0no-co/graphql.web';
import { createClient, type Client } from 'graphql-ws';
import type { introspection } from '../graphql-env';

export const graphql = initGraphQLTada<{ introspection: introspection; scalars: { DateTime: string } }>();
export type { ResultOf, VariablesOf };

/** A refusal of the API, with its stable code (`INSUFFICIENT_CREDITS`, `RATE_LIMITED`, …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The connection failed (offline, server down): worth a retry. */
export class NetworkError extends Error {}

let token = '';
let socket: Client | null = null;

export function setToken(next: string): void {
  token = next;
  socket?.dispose();
  socket = null;
}

export function currentToken(): string {
  return token;
}

export async function request<R, V>(document: TadaDocumentNode<R, V>, variables: V): Promise<R> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  return answer<R>(response);
}

/** The data of a GraphQL response, or its first error as an [`ApiError`]. */
async function answer<R>(response: Response): Promise<R> {
  let body: { data?: R; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  try {
    body = await response.json();
  } catch {
    throw new NetworkError(`the server answered ${response.status}`);
  }
  const error = body.errors?.[0];
  if (error) {
    const { code, ...details } = error.extensions ?? {};
    throw new ApiError(error.message, typeof code === 'string' ? code : 'INTERNAL', details);
  }
  return body.data as R;
}

/**
 * A mutation with files, by the GraphQL multipart request spec: `files` fill the list variable
 * `field` in order.
 */
export async function upload<R, V>(document: TadaDocumentNode<R, V>, variables: V, field: string, files: File[]): Promise<R> {
  const form = new FormData();
  const withSlots = { ...(variables as Record<string, unknown>), [field]: files.map(() => null) };
  form.append('operations', JSON.stringify({ query: print(document), variables: withSlots }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.${field}.${i}`]]))));
  files.forEach((file, i) => form.append(String(i), file, file.name));
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: form,
    });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  return answer<R>(response);
}

/** Follows a subscription; returns the function that stops it. */
export function subscribe<R, V>(
  document: TadaDocumentNode<R, V>,
  variables: V,
  onData: (data: R) => void,
  onError: (error: unknown) => void = () => {},
): () => void {
  socket ??= createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    lazy: true,
    retryAttempts: 5,
  });
  return socket.subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (message) => message.data && onData(message.data),
      error: onError,
      complete: () => {},
    },
  );
}
