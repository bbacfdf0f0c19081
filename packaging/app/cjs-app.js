'use strict';
// Nest 11, "type": "commonjs": the package (ESM-only) is loaded with require(esm).
const { main } = require('./smoke.cjs');

main('cjs/nest11', () => {
  if (!process.features.require_module) {
    throw new Error(
      `this Node (${process.version}) has no require(esm): process.features.require_module is false`,
    );
  }
  const common = require('@nestjs/common');
  const core = require('@nestjs/core');
  const { MessenteDlrModule, OnDlrStatus, DeliveryStatusEvents } = require('nestjs-messente-dlr');
  const { signDlr, dlrPayload } = require('nestjs-messente-dlr/testing');
  const { MessenteDlrBoardModule } = require('nestjs-messente-dlr/board');
  return {
    common,
    core,
    dlr: { MessenteDlrModule, OnDlrStatus, DeliveryStatusEvents },
    testing: { signDlr, dlrPayload },
    board: { MessenteDlrBoardModule },
  };
});
