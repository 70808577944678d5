import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';

export const ADMIN_TOKEN = 'sample-admin-token';

/** 401 without an `Authorization` header, 403 unless it is `Bearer <ADMIN_TOKEN>`. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new UnauthorizedException('Missing Authorization header');
    }
    if (header !== `Bearer ${ADMIN_TOKEN}`) {
      throw new ForbiddenException('Invalid admin token');
    }
    return true;
  }
}
