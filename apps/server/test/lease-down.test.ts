import { describe, expect, it } from 'vitest';
import type { LeaseBoard } from '../src/domain/ports.js';
import { startServer } from './harness.js';

describe('render leases', () => {
  it('renders anyway when the lease board is unreachable (accepted work does not wait for Redis)', async () => {
    const leases: LeaseBoard = {
      acquire: async () => {
        throw new Error('board down');
      },
    };
    const server = await startServer({ overrides: { leases } });
    try {
      const id = (
        await server.gql<{ createScene: { id: string } }, never>('mutation { createScene(input: { title: "No board", seed: 3 }) { id } }')
      ).data!.createScene.id;
      await server.app.coordinator.idle(id);
      const scene = (await server.gql<{ scene: { renderState: string } }, never>(`{ scene(id: "${id}") { renderState } }`)).data!.scene;
      expect(scene.renderState).toBe('DONE');
      expect(server.log.lines.some((l) => l.level === 'error' && l.message.startsWith('could not take a render lease'))).toBe(true);
    } finally {
      await server.stop();
    }
  });
});
