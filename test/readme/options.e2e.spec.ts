// docs/options.md "Global guards and throttlers" quotes this file: a global auth guard leaves
// the webhook alone once it carries the app's own exemption.
import {
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { MessenteDlrModule } from 'nestjs-messente-dlr';
import { dlrPayload } from 'nestjs-messente-dlr/testing';
import { ADAPTERS, postDlr, startApp, type TestApp } from '../support/app.js';

const IS_PUBLIC = 'isPublic';
/** The app's own "no login needed" marker, as apps with a global auth guard have. */
const Public = () => SetMetadata(IS_PUBLIC, true);

@Injectable()
class LoginGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]))
      return true;
    throw new UnauthorizedException('login required');
  }
}

describe.each(ADAPTERS)('webhook behind global guards on %s', (adapter) => {
  const secret = 'options-secret';
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startApp(adapter, {
      imports: [
        MessenteDlrModule.forRoot({
          signatureSecrets: [secret],
          controllerDecorators: [Public()],
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: LoginGuard }],
    });
  });
  afterAll(() => testApp.close());

  it("lets every report past the app's login guard to the webhook's own checks", async () => {
    // The login guard would answer 401; the 403s come from the webhook's own IP allowlist
    // (Messente's IPs only, not loopback): every request got past the app's guard to the module.
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push((await postDlr(testApp.baseUrl, dlrPayload(), { secret })).status);
    expect(answers).toEqual([403, 403, 403]);
  });
});
