/** What the bench's client processes share: the categories they place, the add mutation, an HTTP GraphQL call. */

export const CATS = ['tree', 'pine', 'house', 'horse', 'rock', 'bush', 'tree', 'pine'];

export const ADD =
  'mutation($s: ID!, $c: String!, $x: Float!, $seed: Int!) { addObject(sceneId: $s, input: { category: $c, box: { x: $x, y: 0.55, w: 0.22, h: 0.35 }, appearanceSeed: $seed, shape: { kind: GENERATED, seed: $seed } }) { revision } }';

/** A GraphQL-over-HTTP call as `token`; throws on errors. */
export function gqlClient(url: string, token: string) {
  return async function gql(query: string, variables: Record<string, unknown>): Promise<any> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
}
