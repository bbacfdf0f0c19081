// Nest 12, "type": "module": the package as an ESM consumer imports it.
import { createRequire } from 'node:module';
import * as common from '@nestjs/common';
import * as core from '@nestjs/core';
import { MessenteDlrModule, OnDlrStatus, DeliveryStatusEvents } from 'nestjs-messente-dlr';
import { signDlr, dlrPayload } from 'nestjs-messente-dlr/testing';
import { MessenteDlrBoardModule } from 'nestjs-messente-dlr/board';

const { main } = createRequire(import.meta.url)('./smoke.cjs');
main('esm/nest12', () => ({
  common,
  core,
  dlr: { MessenteDlrModule, OnDlrStatus, DeliveryStatusEvents },
  testing: { signDlr, dlrPayload },
  board: { MessenteDlrBoardModule },
}));
