import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Principal, ROLES, type Role, type TokenStore } from '../../device-registry/tokens.ts';
import { AuthInvalidError, AuthRequiredError, ForbiddenError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Bearer-token check; a route declares the least role it needs (viewer < operator < admin). */
export function authenticator(tokens: TokenStore) {
  return (role: Role, action: string) =>
    async function requireRole(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
      const header = req.headers.authorization;
      if (!header?.startsWith('Bearer ')) throw new AuthRequiredError();
      const principal = await tokens.verify(header.slice(7).trim());
      if (!principal) throw new AuthInvalidError();
      if (ROLES[principal.role] < ROLES[role]) throw new ForbiddenError(principal.role, action);
      req.principal = principal;
    };
}

export type RequireRole = ReturnType<typeof authenticator>;
