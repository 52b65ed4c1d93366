using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// Karpathy's nanoGPT GPT (model.py) in TorchSharp, with nanoGPT's module and parameter names
/// (<c>transformer.wte.weight</c>, <c>transformer.h.0.attn.c_attn.weight</c>, ..., <c>lm_head.weight</c>).
/// Parameters keep TorchSharp's default init; CompleteP.Parameterization's <c>Parameterize.Apply</c>
/// re-initializes them and folds every multiplier into the weights; every submodule is invoked through <c>call</c>,
/// so the coordinate checks' recording hooks (and <c>MultiplierMode.Hooks</c>) see them all.
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    // Field names are the module names: TorchSharp registers fields by name.
    private readonly GptTransformer transformer;
    private readonly Linear lm_head;

    /// <summary>Creates the model.</summary>
    public Gpt(GptConfig config) : base(nameof(Gpt))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        transformer = new GptTransformer(config);
        lm_head = nn.Linear(config.NEmbd, config.VocabSize, hasBias: false);
        RegisterComponents();
        TieWeights();
    }

    /// <summary>The configuration.</summary>
    public GptConfig Config { get; }

    /// <summary>The <c>transformer</c> container (embeddings, blocks, final norm).</summary>
    public GptTransformer Transformer => transformer;

    /// <summary>The readout <c>lm_head</c>.</summary>
    public Linear LmHead => lm_head;

    /// <summary>Whether <c>lm_head.weight</c> and <c>transformer.wte.weight</c> are one tensor now.</summary>
    public bool WeightsAreTied =>
        transformer.Wte.named_parameters(recurse: false).Any(p => p.parameter.Handle == lm_head.weight.Handle);

    /// <summary>Logits [B, T, vocab] for token ids <paramref name="idx"/> [B, T] (int64), T at most the block size.</summary>
    public override Tensor forward(Tensor idx)
    {
        ArgumentNullException.ThrowIfNull(idx);
        long t = idx.shape[1];   // idx is (B, T)
        if (t > Config.BlockSize)
        {
            throw new ArgumentException($"Cannot forward a sequence of length {t}: the block size is {Config.BlockSize}.", nameof(idx));
        }

        using var scope = torch.NewDisposeScope();
        var pos = torch.arange(0, t, dtype: ScalarType.Int64, device: idx.device);   // (T)
        var tokEmb = transformer.Wte.call(idx);   // token embeddings (B, T, N)
        var posEmb = transformer.Wpe.call(pos);   // position embeddings (T, N)
        var x = transformer.Drop.call(tokEmb + posEmb);   // (B, T, N)
        foreach (var block in transformer.H)
        {
            x = block.call(x);   // (B, T, N)
        }

        x = transformer.LnF.call(x);   // (B, T, N)
        return lm_head.call(x).MoveToOuterDisposeScope();   // logits (B, T, vocab)
    }

    /// <summary>Mean cross-entropy of the next-token predictions: <paramref name="targets"/> [B, T] are the ids that follow <paramref name="idx"/>.</summary>
    public Tensor Loss(Tensor idx, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        using var logits = call(idx);   // (B, T, vocab)
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.view(-1));   // (B*T, vocab) against (B*T)
    }

    /// <summary>
    /// Appends <paramref name="maxNewTokens"/> sampled tokens to <paramref name="idx"/> [B, T], as
    /// nanoGPT's <c>generate</c> (call <c>eval()</c> first). Temperature divides the logits; a
    /// <paramref name="topK"/> keeps only the k most likely tokens. A <paramref name="generator"/> (a CPU generator:
    /// TorchSharp has no other) makes the draws reproducible on any device.
    /// </summary>
    public Tensor Generate(Tensor idx, int maxNewTokens, double temperature = 1.0, int? topK = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(idx);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var tokens = idx.clone();
        for (int i = 0; i < maxNewTokens; i++)
        {
            long t = tokens.shape[1];
            var context = t <= Config.BlockSize ? tokens : tokens.narrow(1, t - Config.BlockSize, Config.BlockSize);   // (B, at most block size)
            var logits = call(context).select(1, -1) / temperature;   // the last position's logits (B, vocab)
            if (topK is int k)
            {
                var (values, _) = logits.topk(Math.Min(k, (int)logits.shape[^1]));   // (B, k), largest first
                logits = logits.masked_fill(logits < values.narrow(1, values.shape[1] - 1, 1), double.NegativeInfinity);   // (B, vocab)
            }

            // TorchSharp 0.107 makes CPU generators only (Generator's device argument is not passed to libtorch),
            // so a seeded draw happens on the CPU: one small copy per token.
            var probs = logits.softmax(-1);   // (B, vocab)
            var next = generator is null || probs.device_type == DeviceType.CPU
                ? torch.multinomial(probs, 1, generator: generator)
                : torch.multinomial(probs.cpu(), 1, generator: generator).to(probs.device);   // (B, 1)
            tokens = torch.cat([tokens, next], 1);   // (B, T + 1)
        }

        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>Moving to another device or dtype copies each module's parameters separately: tie them again.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        TieWeights();
    }

    /// <summary>
    /// nanoGPT's <c>self.transformer.wte.weight = self.lm_head.weight</c>. The Embedding then holds
    /// the same Parameter object as <c>lm_head</c>, so <c>named_parameters()</c> (which skips
    /// handles it has seen) lists the tensor once, as <c>transformer.wte.weight</c>.
    /// </summary>
    private void TieWeights()
    {
        if (Config.TieWeights && !WeightsAreTied)
        {
            transformer.Wte.weight = lm_head.weight;
        }
    }
}
