import 'reflect-metadata';
import { buildSchemaSync, type PubSub } from 'type-graphql';
import type { GraphQLObjectType, GraphQLSchema } from 'graphql';
import { RESOLVERS } from './resolvers.js';
import { ALL_SCENE_EVENT_TYPES } from './types/events.js';

/**
 * type-graphql 2 requires a pub/sub even when every subscription brings its own `subscribe`;
 * ours never publishes through it (the server streams from its own event log).
 */
const UNUSED_PUBSUB: PubSub = {
  publish: () => {
    throw new Error('the contract schema publishes through SceneApi.sceneEvents, not type-graphql pubSub');
  },
  subscribe: () => {
    throw new Error('the contract schema subscribes through SceneApi.sceneEvents, not type-graphql pubSub');
  },
};

let cached: GraphQLSchema | undefined;

function describeRoot(type: GraphQLObjectType | null | undefined, description: string): void {
  if (type) type.description = description;
}

/** Build (once) the executable GraphQL schema of the contract. Its context must be an {@link ApiContext}. */
export function buildContractSchema(): GraphQLSchema {
  if (cached) return cached;
  const schema = buildSchemaSync({
    resolvers: [...RESOLVERS],
    orphanedTypes: [...ALL_SCENE_EVENT_TYPES],
    pubSub: UNUSED_PUBSUB,
    validate: false,
    emitSchemaFile: false,
  });
  describeRoot(schema.getQueryType(), 'Read scenes, the model and the runtime.');
  describeRoot(schema.getMutationType(), 'Edit scenes. Every edit returns the scene at its new revision and starts rendering the steps it changed.');
  describeRoot(schema.getSubscriptionType(), "Follow a scene's events live.");
  cached = schema;
  return schema;
}
