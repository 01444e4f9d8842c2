import { ConcurrencyLimiter, RateLimiter } from '../../src/domain/identity/rate-limit.js';
import { limitsContract } from './limits.contract.js';

// One process: both "replicas" are the same limiter (the process's death takes its slots along).
limitsContract('in-process (token buckets, counters)', {
  rate: (rule) => new RateLimiter(rule),
  slots: (max) => {
    const limit = new ConcurrencyLimiter(max);
    return { a: limit, b: limit };
  },
});
