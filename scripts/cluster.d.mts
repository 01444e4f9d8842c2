/** Types of scripts/cluster.mjs (used by the cluster tests). */
export interface ClusterProcess {
  name: string;
  port?: number;
  url?: string;
}
export interface Cluster {
  url: string;
  databaseUrl: string;
  redisUrl: string;
  apis: (ClusterProcess & { port: number; url: string })[];
  /** Inference workers; each serves GET /metrics and GET /health at `url`. */
  workers: (ClusterProcess & { port: number; url: string })[];
  stopProcess(name: string, options?: { kill?: boolean }): Promise<void>;
  startProcess(name: string): Promise<void>;
  stop(): Promise<void>;
}
export interface ClusterOptions {
  port?: number;
  dir?: string;
  replicas?: number;
  workers?: number;
  web?: boolean;
  quiet?: boolean;
  env?: Record<string, string>;
  redisPersistence?: boolean;
  postgresPort?: number;
  redisPort?: number;
}
export function startCluster(options?: ClusterOptions): Promise<Cluster>;
export function freePort(): Promise<number>;
