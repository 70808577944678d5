import { Injectable } from '@nestjs/common';
import type { MethodInstrument } from './method-instrument.js';

/** Instruments of decorated controller methods, keyed by the handler function Nest routes to. */
@Injectable()
export class HandlerInstruments extends WeakMap<object, MethodInstrument> {}
