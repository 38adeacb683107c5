import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../lib/private/quantity';

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5], ['4', 4], ['16Gi', 16 * 2 ** 30], ['1.5G', 1.5e9], ['2e3', 2000], ['1E', 1e18], ['1Ei', 2 ** 60], ['3e-1', 0.3], ['1k', 1000],
  ])('reads %s', (quantity, value) => {
    expect(parseQuantity(quantity)).toBeCloseTo(value);
  });
});
