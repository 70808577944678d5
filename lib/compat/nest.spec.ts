import 'reflect-metadata';
import { Logger, Scope, type NestInterceptor } from '@nestjs/common';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { jest } from '@jest/globals';
import { forgetReportedDegradations } from './degraded.js';
import {
  checkTransportKeys,
  EXPECTED_NEST_KEYS,
  nestCommonKeys,
  nestTransportKeys,
  onFactoryResult,
  onInstanceCreated,
  prependInterceptor,
  provideInterceptor,
  runHooksFirst,
} from './nest.js';

const interceptor: NestInterceptor = { intercept: (_c, next) => next.handle() };
class SomeInterceptor {}

function warnings() {
  return jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
}

afterEach(() => {
  jest.restoreAllMocks();
  forgetReportedDegradations();
});

describe('Nest metadata keys', () => {
  it('are found by decorating probes, and are the ones this version expects', async () => {
    const warn = warnings();
    expect(nestCommonKeys()).toEqual({
      interceptors: EXPECTED_NEST_KEYS.interceptors,
      routePath: EXPECTED_NEST_KEYS.routePath,
    });
    await checkTransportKeys({ microservices: true, websockets: true });
    expect(nestTransportKeys()).toEqual({
      pattern: EXPECTED_NEST_KEYS.pattern,
      patternHandler: EXPECTED_NEST_KEYS.patternHandler,
      gateway: EXPECTED_NEST_KEYS.gateway,
      messageMapping: EXPECTED_NEST_KEYS.messageMapping,
      message: EXPECTED_NEST_KEYS.message,
    });
    expect(warn).not.toHaveBeenCalled();
  });

  it('put an interceptor first, once', () => {
    const handler = () => undefined;
    Reflect.defineMetadata(
      EXPECTED_NEST_KEYS.interceptors,
      [interceptor],
      handler,
    );
    prependInterceptor(handler, SomeInterceptor);
    prependInterceptor(handler, SomeInterceptor);
    expect(
      Reflect.getMetadata(EXPECTED_NEST_KEYS.interceptors, handler),
    ).toEqual([SomeInterceptor, interceptor]);
  });
});

describe('provideInterceptor', () => {
  const sample = new InstanceWrapper({ token: 'sample', name: 'sample' });

  it('registers the instance under the class in the module injectables', () => {
    const host = { injectables: new Map() };
    expect(provideInterceptor(host, sample, SomeInterceptor, interceptor)).toBe(
      true,
    );
    const wrapper = host.injectables.get(SomeInterceptor) as InstanceWrapper;
    expect(wrapper.instance).toBe(interceptor);
    expect(wrapper).toBeInstanceOf(InstanceWrapper);
  });

  it('degrades with one warning when the module has no injectables', () => {
    const warn = warnings();
    expect(provideInterceptor({}, sample, SomeInterceptor, interceptor)).toBe(
      false,
    );
    expect(provideInterceptor({}, sample, SomeInterceptor, interceptor)).toBe(
      false,
    );
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /Module.injectables.*rpc\/ws messages may be recorded by the app created later/,
    );
  });

  it('degrades when the wrapper is not an InstanceWrapper', () => {
    const warn = warnings();
    const host = { injectables: new Map() };
    expect(provideInterceptor(host, {}, SomeInterceptor, interceptor)).toBe(
      false,
    );
    expect(host.injectables.size).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('onInstanceCreated', () => {
  class Service {
    constructor(readonly value = 1) {}
  }

  it('sees every instance Nest would create, of a class that looks the same', () => {
    const wrapper = new InstanceWrapper({
      token: Service,
      name: 'Service',
      metatype: Service,
      scope: Scope.REQUEST,
    });
    const seen: object[] = [];
    expect(onInstanceCreated(wrapper, (i) => seen.push(i))).toBe(true);
    const Hooked = wrapper.metatype as new (v: number) => Service;
    const instance = new Hooked(7);
    expect(seen).toEqual([instance]);
    expect(instance).toBeInstanceOf(Service);
    expect(instance.constructor).toBe(Service);
    expect(instance.value).toBe(7);
    expect(Hooked.name).toBe('Service');
  });

  it('refuses a factory provider', () => {
    const wrapper = new InstanceWrapper({
      token: 'f',
      name: 'f',
      metatype: () => new Service(),
      inject: [],
    });
    expect(onInstanceCreated(wrapper, () => {})).toBe(false);
  });
});

describe('runHooksFirst', () => {
  class Provider {}

  it('moves the module holding the provider before every other', () => {
    class FakeModule {
      private d = 0;
      providers = new Map([[Provider, {}]]);
      get distance() {
        return this.d;
      }
      set distance(value: number) {
        this.d = value;
      }
    }
    const module = new FakeModule();
    expect(runHooksFirst([{ providers: new Map() }, module], Provider)).toBe(
      true,
    );
    expect(module.distance).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports false when the module has no distance to set', () => {
    const frozen = {
      providers: new Map([[Provider, {}]]),
      get distance() {
        return 0;
      },
    };
    expect(runHooksFirst([frozen], Provider)).toBe(false);
    expect(runHooksFirst([], Provider)).toBe(false);
  });
});

describe('onFactoryResult', () => {
  it('sees what the factory returns, and returns it unchanged', async () => {
    const made = { made: true };
    const error = new Error('no');
    const wrapper = new InstanceWrapper({
      token: 'f',
      name: 'f',
      metatype: (fail: boolean) =>
        fail ? Promise.reject(error) : Promise.resolve(made),
      inject: [],
    });
    const seen: unknown[] = [];
    expect(onFactoryResult(wrapper, (v) => seen.push(v))).toBe(true);
    const factory = wrapper.metatype as unknown as (
      fail: boolean,
    ) => Promise<unknown>;
    await expect(factory(false)).resolves.toBe(made);
    await expect(factory(true)).rejects.toBe(error);
    expect(seen).toEqual([made]);
  });

  it('refuses a class provider', () => {
    class Plain {}
    const wrapper = new InstanceWrapper({
      token: Plain,
      name: 'Plain',
      metatype: Plain,
    });
    expect(onFactoryResult(wrapper, () => {})).toBe(false);
    expect(wrapper.metatype).toBe(Plain);
  });
});
