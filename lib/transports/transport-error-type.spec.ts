import {
  BadRequestException,
  ForbiddenException,
  GatewayTimeoutException,
  HttpException,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { TimeoutError } from 'rxjs';
import { transportErrorType } from './transport-error-type.js';

describe('transportErrorType', () => {
  it.each([
    [new TimeoutError(), 'timeout'],
    [new GatewayTimeoutException(), 'timeout'],
    [new BadRequestException(), 'validation'],
    [new UnauthorizedException(), 'unauthorized'],
    [new ForbiddenException(), 'forbidden'],
    [new NotFoundException(), 'not_found'],
    [new HttpException('teapot', 418), 'client_error'],
    [new HttpException('down', 503), 'internal'],
    [new RpcException('refused'), 'client_error'],
    [new WsException('refused'), 'client_error'],
    [new (class extends RpcException {})('sub'), 'client_error'],
    [new Error('boom'), 'internal'],
    ['a string', 'internal'],
    [undefined, 'internal'],
  ])('maps %p to %s', (error, expected) => {
    expect(transportErrorType(error)).toBe(expected);
  });
});
