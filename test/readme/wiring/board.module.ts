import { Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { MessenteDlrModule } from 'nestjs-messente-dlr';
import { MessenteDlrBoardModule } from 'nestjs-messente-dlr/board';

/** The app's own admin check (here: a header); any guard of yours works. */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    return request.headers['x-admin'] === process.env.ADMIN_TOKEN;
  }
}

@Module({
  imports: [
    MessenteDlrModule.forRoot({ signatureSecrets: [process.env.MESSENTE_API_PASSWORD!] }),
    MessenteDlrBoardModule.forRoot({ path: 'messente/board', guards: [AdminGuard] }),
  ],
})
export class AppModule {}
