import {
  Body,
  Controller,
  Get,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';

/** The body the POST route receives. */
export interface ItemInput {
  name: string;
  quantity: number;
}

/** The routes every variant serves: the same handlers, so only the metrics set-up differs. */
@Controller()
export class BenchController {
  @Get('static')
  health(): { ok: boolean } {
    return { ok: true };
  }

  @Get('items/:id')
  item(@Param('id') id: string): { id: string; name: string } {
    return { id, name: 'pen' };
  }

  @Post('items')
  create(@Body() body: ItemInput): ItemInput & { id: number } {
    return { id: 1, ...body };
  }

  @Get('error')
  missing(): never {
    throw new NotFoundException('no such item');
  }
}

/** One measured route: the request autocannon sends and the status every response must have. */
export interface BenchRoute {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly status: number;
}

export const ROUTES: readonly BenchRoute[] = [
  { name: 'static', method: 'GET', path: '/static', status: 200 },
  { name: 'param', method: 'GET', path: '/items/42', status: 200 },
  {
    name: 'post',
    method: 'POST',
    path: '/items',
    body: JSON.stringify({ name: 'pen', quantity: 2 }),
    status: 201,
  },
  { name: 'error', method: 'GET', path: '/error', status: 404 },
];
