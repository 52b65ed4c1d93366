using CompleteP;
using CompleteP.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// One optimizer step of nanoGPT's loop: clear the gradients, forward, backward, clip the global gradient norm as the
/// unfolded model would see it, AdamW step. Nothing in it waits for the device: the loss comes back as a 0-dim tensor
/// on the model's device, to be read when the caller logs.
/// </summary>
/// <remarks>
/// Clipping is fold-aware (<see cref="ParameterizedGradients"/>): Apply folds the residual multiplier into the output
/// projections, whose stored gradients are then the unfolded ones divided by the multiplier, so
/// <c>nn.utils.clip_grad_norm_</c> would clip another model. With <see cref="FlatAdamW"/> the clipping runs inside its
/// step, a few kernels per parameter group; with any other optimizer it is a few norm kernels and one multiply per tensor.
/// </remarks>
public sealed class TrainingStep
{
    private readonly Gpt _model;
    private readonly optim.Optimizer _optimizer;
    private readonly ParameterizationPlan _plan;
    private readonly double _gradClip;

    /// <summary>Prepares the step (with <see cref="FlatAdamW"/>, turns on its built-in fold-aware clipping).</summary>
    /// <param name="model">The parameterized model.</param>
    /// <param name="optimizer">Its optimizer, regrouped by <see cref="Parameterize.Apply"/>.</param>
    /// <param name="plan">The plan Apply returned.</param>
    /// <param name="gradClip">The largest global gradient norm; 0 turns clipping off.</param>
    public TrainingStep(Gpt model, optim.Optimizer optimizer, ParameterizationPlan plan, double gradClip)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(plan);
        if (!(gradClip >= 0) || !double.IsFinite(gradClip))
        {
            throw new ArgumentOutOfRangeException(nameof(gradClip), gradClip, "gradClip must be 0 (off) or a finite positive norm.");
        }

        _model = model;
        _optimizer = optimizer;
        _plan = plan;
        _gradClip = gradClip;
        if (optimizer is FlatAdamW flat)
        {
            if (gradClip > 0)
            {
                flat.SetGradientClipping(gradClip, model, plan);
            }
            else
            {
                flat.ClearGradientClipping();
            }
        }
    }

    /// <summary>Runs one step on a batch; call it inside a dispose scope.</summary>
    /// <param name="x">Token ids [B, T].</param>
    /// <param name="y">Next-token targets [B, T].</param>
    /// <param name="beforeUpdate">Called with the loss after the forward pass, before backward and the update (to stop on NaN before it spreads); null for none.</param>
    /// <returns>The batch's loss before the step, a detached 0-dim tensor on the model's device (reading it waits for the device).</returns>
    public Tensor Run(Tensor x, Tensor y, Action<Tensor>? beforeUpdate = null)
    {
        _optimizer.zero_grad();
        var loss = _model.Loss(x, y); // () mean cross-entropy
        beforeUpdate?.Invoke(loss);
        loss.backward();
        if (_gradClip > 0 && _optimizer is not FlatAdamW)
        {
            ParameterizedGradients.ClipGradNormOnDevice(_model, _plan, _gradClip); // the norm tensor goes with the caller's scope
        }

        _optimizer.step();
        return loss.detach();
    }
}
