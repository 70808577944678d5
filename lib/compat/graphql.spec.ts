import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { ApolloDriver } from '@nestjs/apollo';
import { AbstractGraphQLDriver } from '@nestjs/graphql';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { forgetReportedDegradations } from './degraded.js';
import {
  beforeDriverStart,
  driverKind,
  graphqlDriverWrappers,
} from './graphql.js';

afterEach(() => {
  jest.restoreAllMocks();
  forgetReportedDegradations();
});

describe('compat/graphql', () => {
  it('finds the driver by the token GraphQLModule provides it under', () => {
    const driver = { token: AbstractGraphQLDriver, isAlias: false };
    const other = { token: class Other {}, isAlias: false };
    expect(
      graphqlDriverWrappers([driver, other] as unknown as InstanceWrapper[]),
    ).toEqual([driver]);
  });

  it('tells the Apollo driver (and its subclasses) from a Mercurius one by their classes', () => {
    class OwnApollo extends ApolloDriver {}
    class MercuriusDriver {}
    expect(driverKind(Object.create(OwnApollo.prototype))).toBe('apollo');
    expect(driverKind(new MercuriusDriver())).toBe('mercurius');
  });

  it('degrades with one warning for a driver it does not know', () => {
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => {});
    class HomeMadeDriver {}
    expect(driverKind(new HomeMadeDriver())).toBeUndefined();
    expect(driverKind(new HomeMadeDriver())).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /@nestjs\/graphql: the driver HomeMadeDriver is not as this version expects; its GraphQL operations are not measured/,
    );
  });

  it('prepares the options before the driver starts, and starts it even when preparing fails', async () => {
    const seen: unknown[] = [];
    const driver = {
      start(options: Record<string, unknown>) {
        seen.push({ ...options });
        return Promise.resolve('started');
      },
    };
    expect(
      beforeDriverStart(driver, (options) => {
        options.plugins = ['metrics'];
      }),
    ).toBe(true);
    await expect(driver.start({ path: '/graphql' })).resolves.toBe('started');
    expect(seen).toEqual([{ path: '/graphql', plugins: ['metrics'] }]);
    const failing = { start: (options: unknown) => Promise.resolve(options) };
    beforeDriverStart(failing, () => {
      throw new Error('preparing failed');
    });
    await expect(failing.start({ path: '/q' })).resolves.toEqual({
      path: '/q',
    });
  });

  it('degrades with one warning when the driver has no start(options)', () => {
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => {});
    expect(beforeDriverStart({}, () => {})).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /start\(options\) is not as this version expects; GraphQL operations are not measured/,
    );
  });
});
