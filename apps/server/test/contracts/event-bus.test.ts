import { MemoryEventBus } from '../../src/infrastructure/memory/memory-bus.js';
import { eventBusContract } from './event-bus.contract.js';

eventBusContract('memory', () => new MemoryEventBus());
