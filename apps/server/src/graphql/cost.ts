import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  getArgumentValues,
  getDirectiveValues,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type FragmentSpreadNode,
  type NamedTypeNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * The cost of an operation, computed with its real (coerced) variables before it runs.
 *
 * Every field costs 1 (or its weight); a field with a selection adds the cost of its selection, and a
 * list multiplies the cost of its items by the most items it can yield: its own arguments
 * (`scenes(first: N)` pages N scenes), a configured bound (`layers`: the scene's layer limit), or the
 * real size of what it lists (model categories; introspection lists from the schema). Fragments are
 * costed once per type (no exponential blow-up); an abstract type costs what its dearest member costs.
 *
 * Introspection (`__schema`, `__type`) is counted apart, against a budget derived from this schema,
 * because the standard introspection query multiplied by the schema's largest lists is far above what
 * any data operation needs, yet its real answer is bounded by the schema.
 */

/** The most items a list field yields: from its arguments, or from the page the field above it asked for. */
export type ListSize = (args: Record<string, unknown>, page: number | undefined) => number;

export interface CostModel {
  /** `Type.field` of every list of objects: how many items it yields at most. */
  lists: Record<string, ListSize>;
  /** `Type.field` of fields that open a page (`Query.scenes`): the page size their connection's list gets. */
  pages: Record<string, (args: Record<string, unknown>) => number>;
  /** `Type.field` of fields that cost more than 1 on their own (`Frame.pngBase64`). */
  weights: Record<string, number>;
}

/** What the data part and the introspection part of an operation cost. */
export interface Cost {
  data: number;
  introspection: number;
}

/** Sizes the cost model takes from configuration and the loaded model. */
export interface ListSizes {
  /** Most layers a scene can have (`limits.maxLayers`). */
  maxLayers: number;
  /** Largest page of scenes (`limits.maxPageSize`). */
  maxPageSize: number;
  /** Entries of `model.categories`, `model.styles`, `model.shapePresets`. */
  categories: number;
  styles: number;
  presets: number;
}

/** Lists nothing bounds by configuration (members, participants, tokens, invites) are costed as this many items. */
export const ASSUMED_LIST_SIZE = 50;
/** One inline PNG (`Frame.pngBase64`): a blob read and tens of kilobytes of base64. */
export const PNG_BASE64_COST = 200;
/** The exported scene document (`Scene.document`): per layer, since drawn masks are inlined. */
export const DOCUMENT_COST_PER_LAYER = 25;
/** The introspection budget, as a multiple of what the full standard introspection query costs on this schema. */
export const INTROSPECTION_BUDGET_FACTOR = 3;

const clampInt = (value: unknown, max: number): number =>
  typeof value === 'number' && Number.isInteger(value) ? Math.min(Math.max(value, 0), max) : max;

/** Sizes of the introspection lists, taken from the schema itself. */
function introspectionLists(schema: GraphQLSchema): Record<string, ListSize> {
  const types = Object.values(schema.getTypeMap());
  const maxOf = (count: (t: (typeof types)[number]) => number) => Math.max(1, ...types.map(count));
  const fieldsOf = (t: (typeof types)[number]) => (isObjectType(t) || isInterfaceType(t) ? Object.values(t.getFields()) : []);
  const directives = schema.getDirectives();
  const sizes: Record<string, number> = {
    '__Schema.types': types.length,
    '__Schema.directives': Math.max(1, directives.length),
    '__Type.fields': maxOf((t) => fieldsOf(t).length),
    '__Type.inputFields': maxOf((t) => (isInputObjectType(t) ? Object.keys(t.getFields()).length : 0)),
    '__Type.interfaces': maxOf((t) => (isObjectType(t) || isInterfaceType(t) ? t.getInterfaces().length : 0)),
    '__Type.possibleTypes': maxOf((t) => (isAbstractType(t) ? schema.getPossibleTypes(t).length : 0)),
    '__Type.enumValues': maxOf((t) => (isEnumType(t) ? t.getValues().length : 0)),
    '__Field.args': maxOf((t) => Math.max(0, ...fieldsOf(t).map((f) => f.args.length))),
    '__Directive.args': Math.max(1, ...directives.map((d) => d.args.length)),
  };
  return Object.fromEntries(Object.entries(sizes).map(([key, n]) => [key, () => n]));
}

/** strata's cost model: every list field of the schema with its size. */
export function strataCostModel(schema: GraphQLSchema, sizes: ListSizes): CostModel & { unsized: string[] } {
  const assumed = () => ASSUMED_LIST_SIZE;
  const model: CostModel & { unsized: string[] } = {
    unsized: [],
    lists: {
      ...introspectionLists(schema),
      'Query.apiTokens': assumed,
      'Query.invites': assumed,
      // The page `scenes(first: N)` asked for; a connection reached otherwise gets the largest page.
      'SceneConnection.nodes': (_args, page) => page ?? sizes.maxPageSize,
      'Scene.layers': () => sizes.maxLayers,
      'Scene.members': assumed,
      'Scene.participants': assumed,
      'PresenceChanged.participants': assumed,
      'ModelInfo.categories': () => sizes.categories,
      'ModelInfo.styles': () => sizes.styles,
      'ModelInfo.shapePresets': () => sizes.presets,
      'Runtime.inferenceWorkers': assumed,
    },
    // A page larger than the limit is refused by the resolver (BAD_USER_INPUT naming `first`) before it lists anything.
    pages: { 'Query.scenes': (args) => clampInt(args['first'], sizes.maxPageSize) },
    weights: {
      'Frame.pngBase64': PNG_BASE64_COST,
      'Scene.document': 10 + DOCUMENT_COST_PER_LAYER * sizes.maxLayers,
    },
  };
  // A list added to the schema without a size here is costed as an unbounded one (and fails the test
  // "gives every list field of the schema a size" until it gets its own).
  model.unsized = unsizedLists(schema, model);
  for (const key of model.unsized) model.lists[key] = assumed;
  return model;
}

/** List fields of objects (data and introspection) that the model gives no size: a new list in the schema must get one. */
export function unsizedLists(schema: GraphQLSchema, model: CostModel): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const key = `${type.name}.${field.name}`;
      if (isListType(getNullableType(field.type)) && isCompositeType(getNamedType(field.type)) && !model.lists[key]) missing.push(key);
    }
  }
  return missing;
}

const ZERO: Cost = { data: 0, introspection: 0 };
const add = (a: Cost, b: Cost): Cost => ({ data: a.data + b.data, introspection: a.introspection + b.introspection });

/**
 * The cost of `operation` (with `variables` already coerced, as `getVariableValues` gives them).
 * Throws when it cannot be computed (an unknown field or type, a list without a size): the caller refuses.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  model: CostModel,
): Cost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new WeakMap<SelectionSetNode, Map<string, Cost>>();
  const active = new Set<string>();

  const applies = (condition: NamedTypeNode | undefined, type: GraphQLObjectType): boolean => {
    if (!condition) return true;
    const target = schema.getType(condition.name.value);
    if (!target) throw new Error(`unknown type ${condition.name.value}`);
    return target === type || (isAbstractType(target) && schema.isSubType(target, type));
  };

  const skipped = (node: FieldNode | InlineFragmentNode | FragmentSpreadNode): boolean => {
    if (!node.directives?.length) return false;
    const skip = getDirectiveValues(GraphQLSkipDirective, node, variables);
    const include = getDirectiveValues(GraphQLIncludeDirective, node, variables);
    return skip?.['if'] === true || include?.['if'] === false;
  };

  const setCost = (set: SelectionSetNode, type: GraphQLObjectType, page: number | undefined): Cost => {
    const key = `${type.name}/${page ?? ''}`;
    let byType = memo.get(set);
    const known = byType?.get(key);
    if (known) return known;
    if (!byType) memo.set(set, (byType = new Map()));
    let total = ZERO;
    for (const selection of set.selections) {
      if (skipped(selection)) continue;
      if (selection.kind === Kind.FIELD) total = add(total, fieldCost(selection, type, page));
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(selection.typeCondition, type)) total = add(total, setCost(selection.selectionSet, type, page));
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) throw new Error(`unknown fragment ${selection.name.value}`);
        const guard = `${fragment.name.value}/${key}`;
        if (active.has(guard) || !applies(fragment.typeCondition, type)) continue; // a cycle is refused by validation
        active.add(guard);
        total = add(total, setCost(fragment.selectionSet, type, page));
        active.delete(guard);
      }
    }
    byType.set(key, total);
    return total;
  };

  const fieldCost = (node: FieldNode, parent: GraphQLObjectType, page: number | undefined): Cost => {
    const name = node.name.value;
    if (name === '__typename') return ZERO;
    const field: GraphQLField<unknown, unknown> | undefined =
      name === '__schema' ? SchemaMetaFieldDef : name === '__type' ? TypeMetaFieldDef : parent.getFields()[name];
    if (!field) throw new Error(`unknown field ${parent.name}.${name}`);
    const key = `${parent.name}.${name}`;
    let args: Record<string, unknown> | undefined;
    const argsOf = () => (args ??= getArgumentValues(field, node, variables));
    const own = model.weights[key] ?? 1;
    const named = getNamedType(field.type);
    let child = ZERO;
    let items = 1;
    if (isCompositeType(named) && node.selectionSet) {
      const pageOf = model.pages[key];
      const childPage = pageOf ? pageOf(argsOf()) : undefined;
      const members = isAbstractType(named) ? schema.getPossibleTypes(named) : [named as GraphQLObjectType];
      for (const member of members) {
        const c = setCost(node.selectionSet, member, childPage);
        child = { data: Math.max(child.data, c.data), introspection: Math.max(child.introspection, c.introspection) };
      }
      if (isListType(getNullableType(field.type))) {
        const size = model.lists[key];
        if (!size) throw new Error(`no list size for ${key}`);
        items = size(argsOf(), page);
        if (!Number.isFinite(items) || items < 0) throw new Error(`list size of ${key} is ${items}`);
      }
    }
    if (isIntrospectionType(parent) || name === '__schema' || name === '__type')
      return { data: 0, introspection: own + items * (child.data + child.introspection) };
    return { data: own + items * child.data, introspection: items * child.introspection };
  };

  const root = schema.getRootType(operation.operation);
  if (!root) throw new Error(`the schema has no ${operation.operation} type`);
  const cost = setCost(operation.selectionSet, root, undefined);
  if (Number.isNaN(cost.data) || Number.isNaN(cost.introspection)) throw new Error('the cost is not a number');
  return cost;
}

/** What the full standard introspection query (every option on) costs on `schema`. */
export function standardIntrospectionCost(schema: GraphQLSchema, model: CostModel): number {
  const document = parse(
    getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    }),
  );
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return operationCost(schema, document, operation, {}, model).introspection;
}
