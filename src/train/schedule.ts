/**
 * The paper's learning-rate rule (§5.4), applied after each epoch: if the training loss rose
 * by more than 25 %, or rose more than 5 epochs in a row, halve the rate (not below the
 * floor) and go back to the weights with the lowest training loss so far.
 */
export interface LossScheduleState {
  lr: number;
  previousLoss: number | null;
  risesInARow: number;
  bestLoss: number | null;
  bestLossEpoch: number | null;
}

export interface ScheduleDecision {
  /** Halve the rate and reload the best-loss weights. */
  halve: boolean;
  /** This epoch has the lowest training loss so far: keep its weights. */
  newBest: boolean;
  reason?: string;
}

export const RISE_FACTOR = 1.25;
export const MAX_RISES_IN_A_ROW = 5;

export class LossSchedule {
  constructor(
    public state: LossScheduleState,
    private readonly minLr: number,
  ) {}

  static start(lr: number, minLr: number): LossSchedule {
    return new LossSchedule({ lr, previousLoss: null, risesInARow: 0, bestLoss: null, bestLossEpoch: null }, minLr);
  }

  /** Records an epoch's mean training loss and says what to do. */
  step(epoch: number, loss: number): ScheduleDecision {
    const s = this.state;
    const rose = s.previousLoss !== null && loss > s.previousLoss;
    s.risesInARow = rose ? s.risesInARow + 1 : 0;
    const jumped = s.previousLoss !== null && loss > s.previousLoss * RISE_FACTOR;
    const newBest = s.bestLoss === null || loss < s.bestLoss;
    if (newBest) {
      s.bestLoss = loss;
      s.bestLossEpoch = epoch;
    }
    s.previousLoss = loss;
    if (!jumped && s.risesInARow <= MAX_RISES_IN_A_ROW) return { halve: false, newBest };
    const reason = jumped
      ? `training loss rose by more than ${Math.round((RISE_FACTOR - 1) * 100)}%`
      : `training loss rose ${s.risesInARow} epochs in a row`;
    s.lr = Math.max(this.minLr, s.lr / 2);
    s.risesInARow = 0;
    // After reloading, the next epoch is compared with the best loss, whose weights we return to.
    s.previousLoss = s.bestLoss;
    return { halve: true, newBest, reason };
  }
}
