namespace NanoGpt;

/// <summary>One optimizer step of the loss curve: the batch's training loss and the time since training started.</summary>
public sealed record LossPoint(int Step, double TrainLoss, double ElapsedSeconds);
