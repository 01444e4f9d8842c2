import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

/** What a person may do in a scene. */
export enum Role {
  OWNER = 'OWNER',
  EDITOR = 'EDITOR',
  VIEWER = 'VIEWER',
}
registerEnumType(Role, {
  name: 'Role',
  description: "A person's role in a scene.",
  valuesConfig: {
    OWNER: { description: 'Created the scene: edits, shares, changes visibility, deletes.' },
    EDITOR: { description: 'Edits layers and the background.' },
    VIEWER: { description: 'Watches; cannot change anything.' },
  },
});

@ObjectType({ description: 'A person (a guest identity made on first visit, or the owner of API tokens).' })
export class User {
  @Field(() => ID, { description: 'Stable user id.' })
  id!: string;

  @Field(() => String, { description: 'Name shown to others.' })
  displayName!: string;

  @Field(() => String, { description: 'Colour shown to others, as #rrggbb.' })
  color!: string;
}

@ObjectType({ description: 'A signed session: send `token` as `Authorization: Bearer <token>` (HTTP) or `authorization` in the graphql-ws connection parameters. Browsers also get it as a cookie.' })
export class Session {
  @Field(() => String, { description: 'The session token.' })
  token!: string;

  @Field(() => User, { description: 'Who the token identifies.' })
  user!: User;
}

@ObjectType({ description: 'A personal API token for third-party clients (its secret is shown once, at creation).' })
export class ApiToken {
  @Field(() => ID, { description: 'Token id (not the secret).' })
  id!: string;

  @Field(() => String, { description: 'Name given at creation.' })
  name!: string;

  @Field(() => String, { description: 'Creation time, ISO 8601.' })
  createdAt!: string;

  @Field(() => String, { nullable: true, description: 'Last time it authenticated a request, ISO 8601.' })
  lastUsedAt?: string | null;
}

@ObjectType({ description: 'A newly created API token and its secret.' })
export class ApiTokenCreated {
  @Field(() => String, { description: 'The secret, `strata_pat_...`; it is not stored and cannot be shown again.' })
  token!: string;

  @Field(() => ApiToken, { description: 'The token record.' })
  apiToken!: ApiToken;
}

@ObjectType({ description: 'A person with access to a scene.' })
export class Member {
  @Field(() => User, { description: 'The person.' })
  user!: User;

  @Field(() => Role, { description: 'Their role.' })
  role!: Role;
}

@ObjectType({ description: 'An invitation link to a scene with a role; anyone who accepts it becomes a member.' })
export class Invite {
  @Field(() => ID, { description: 'Invite id.' })
  id!: string;

  @Field(() => Role, { description: 'The role it grants (EDITOR or VIEWER).' })
  role!: Role;

  @Field(() => String, { description: 'The secret to pass to `acceptInvite`.' })
  token!: string;

  @Field(() => String, { description: 'Relative URL of the web app that accepts it.' })
  url!: string;

  @Field(() => String, { description: 'Creation time, ISO 8601.' })
  createdAt!: string;
}

@ObjectType({ description: 'A point on the canvas, normalised 0..1.' })
export class Point {
  @Field(() => Float, { description: 'Horizontal, 0 = left.' })
  x!: number;

  @Field(() => Float, { description: 'Vertical, 0 = top.' })
  y!: number;
}

@InputType({ description: 'A point on the canvas, normalised 0..1.' })
export class PointInput {
  @Field(() => Float, { description: 'Horizontal, 0 = left.' })
  x!: number;

  @Field(() => Float, { description: 'Vertical, 0 = top.' })
  y!: number;
}

@ObjectType({ description: 'Someone in a scene now: connected to its stream.' })
export class Participant {
  @Field(() => User, { description: 'Who.' })
  user!: User;

  @Field(() => Role, { description: 'Their role in the scene.' })
  role!: Role;

  @Field(() => ID, { nullable: true, description: 'The layer they have selected.' })
  selectedLayerId?: string | null;

  @Field(() => Point, { nullable: true, description: 'Their pointer on the canvas (throttled).' })
  pointer?: Point | null;

  @Field(() => Int, { description: 'Open connections they have to this scene.' })
  connections!: number;
}
