#!/usr/bin/env node
import { Command } from 'commander';
import { DataError } from '../data/errors.js';
import { registerDataCommands } from './data-stats.js';
import { registerTrainCommand } from './train.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerEnsembleCommands } from './ensemble.js';
import { registerFinetuneCommand } from './finetune.js';
import { registerPredictCommand } from './predict.js';

const program = new Command('fer')
  .description('facial expression recognition with multiple deep network learning (Yu & Zhang, ICMI 2015)')
  .showHelpAfterError();
registerDataCommands(program);
registerTrainCommand(program);
registerEvaluateCommand(program);
registerEnsembleCommands(program);
registerFinetuneCommand(program);
registerPredictCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof DataError) {
    console.error(`error: ${err.message}`);
    process.exitCode = 2;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
});
