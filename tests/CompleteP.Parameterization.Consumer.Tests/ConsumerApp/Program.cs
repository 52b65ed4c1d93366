// A user's first program against the packages, compiled in a fresh `dotnet new console` project that references
// CompleteP.Parameterization.TorchSharp and libtorch-cpu-linux-x64 from a local feed (ConsumerPackageTests).
// The top of the file is the README's one-call example: it compiles with ONE `using` of ours besides TorchSharp's.
// The test reads the lines this program prints: "parameters: N", "plan rows: N", "loss before: X", "loss after: X",
// "hidden lr: X", "gradient norm: X", "coordinate check: passed".
using CompleteP;
using TorchSharp;
using static TorchSharp.torch;

torch.manual_seed(0);
const int Vocab = 32, Context = 16, HeadDim = 16;

var model = new Consumer.TinyGpt(Vocab, Context, width: 64, depth: 4, HeadDim);   // your model, unchanged
var optimizer = torch.optim.AdamW(model.parameters());
var plan = Parameterize.Apply(model, optimizer, new ParameterizeOptions
{
    Parameterization = Parameterization.CompleteP,
    BaseShape = new ModelShape(width: 32, depth: 2),
    HeadDim = HeadDim,
    Hyperparameters = new BaseHyperparameters(learningRate: 6e-3, initStd: 0.02, weightDecay: 0.1, adamEpsilon: 1e-8),
});
Console.WriteLine(plan.ToTable(withFormulas: true));
Console.WriteLine($"parameters: {model.parameters().Count()}");
Console.WriteLine($"plan rows: {plan.Rows.Count}");
Console.WriteLine($"hidden lr: {plan["h.0.mlp.c_fc.weight"].Rule.LearningRate:R}");   // eta * m_N^-1 * m_L^0 = 6e-3 / 2

// One AdamW step on one batch; the loss on that batch goes down.
var (x, y) = Consumer.Data.Batch(Vocab, Context, seed: 1);
float LossOn() => nn.functional.cross_entropy(model.call(x).view(-1, Vocab), y.view(-1)).item<float>();
Console.WriteLine($"loss before: {LossOn():R}");
var loss = nn.functional.cross_entropy(model.call(x).view(-1, Vocab), y.view(-1));
optimizer.zero_grad();
loss.backward();
Console.WriteLine($"gradient norm: {CompleteP.Optimizers.ParameterizedGradients.ClipGradNorm(model, plan, maxNorm: 1.0):R}");   // if you clip
optimizer.step();
Console.WriteLine($"loss after: {LossOn():R}");

// One coordinate-check assertion: CompleteP's activations keep their size as the width grows.
Consumer.Check.StableAcrossWidth(Vocab, Context, HeadDim, x, y);
Console.WriteLine("coordinate check: passed");

namespace Consumer
{
    using CompleteP.CoordinateChecks;
    using TorchSharp.Modules;
    using static TorchSharp.torch;

    /// <summary>Causal self-attention; the parameterization sets its logit scale (1/d_head) through IScaledAttention.</summary>
    public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>, CompleteP.IScaledAttention
    {
        private readonly Linear c_attn, c_proj;
        private readonly int heads, headDim;

        public CausalSelfAttention(int width, int headDim) : base(nameof(CausalSelfAttention))
        {
            this.headDim = headDim;
            heads = width / headDim;
            c_attn = nn.Linear(width, 3 * width);
            c_proj = nn.Linear(width, width);
            AttentionScale = 1.0 / Math.Sqrt(headDim);
            RegisterComponents();
        }

        public double AttentionScale { get; set; }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], t = x.shape[1];
            var qkv = c_attn.call(x).view(b, t, 3, heads, headDim).permute(2, 0, 3, 1, 4);   // (3, B, heads, T, d_head)
            var att = qkv[0].matmul(qkv[1].transpose(-2, -1)) * AttentionScale;              // (B, heads, T, T)
            var future = ones(t, t, dtype: ScalarType.Bool, device: x.device).triu(1);
            att = att.masked_fill(future, double.NegativeInfinity).softmax(-1);
            return c_proj.call(att.matmul(qkv[2]).transpose(1, 2).reshape(b, t, heads * headDim));   // (B, T, width)
        }
    }

    public sealed class Mlp : nn.Module<Tensor, Tensor>
    {
        private readonly Linear c_fc, c_proj;

        public Mlp(int width) : base(nameof(Mlp))
        {
            c_fc = nn.Linear(width, 4 * width);
            c_proj = nn.Linear(4 * width, width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => c_proj.call(nn.functional.gelu(c_fc.call(x)));
    }

    /// <summary>A pre-LN block: two residual branches, each behind its own norm.</summary>
    public sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm ln_1, ln_2;
        private readonly CausalSelfAttention attn;
        private readonly Mlp mlp;

        public Block(int width, int headDim) : base(nameof(Block))
        {
            ln_1 = nn.LayerNorm(width);
            attn = new CausalSelfAttention(width, headDim);
            ln_2 = nn.LayerNorm(width);
            mlp = new Mlp(width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            x = x + attn.call(ln_1.call(x));
            return x + mlp.call(ln_2.call(x));
        }
    }

    /// <summary>Token and position embeddings, a ModuleList of blocks, a final norm and an untied head.</summary>
    public sealed class TinyGpt : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding wte, wpe;
        private readonly ModuleList<Block> h;
        private readonly LayerNorm ln_f;
        private readonly Linear lm_head;

        public TinyGpt(int vocab, int context, int width, int depth, int headDim) : base(nameof(TinyGpt))
        {
            wte = nn.Embedding(vocab, width);
            wpe = nn.Embedding(context, width);
            h = new ModuleList<Block>(Enumerable.Range(0, depth).Select(_ => new Block(width, headDim)).ToArray());
            ln_f = nn.LayerNorm(width);
            lm_head = nn.Linear(width, vocab, hasBias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor idx)
        {
            var x = wte.call(idx) + wpe.call(arange(idx.shape[1], device: idx.device));   // (B, T, width)
            foreach (var block in h)
            {
                x = block.call(x);
            }

            return lm_head.call(ln_f.call(x));   // (B, T, vocab)
        }
    }

    public static class Data
    {
        /// <summary>A batch of 4 random sequences and their next tokens.</summary>
        public static (Tensor X, Tensor Y) Batch(int vocab, int context, int seed)
        {
            using var generator = new Generator((ulong)seed);
            var tokens = randint(0, vocab, [4, context + 1], generator: generator);
            return (tokens[.., ..^1].contiguous(), tokens[.., 1..].contiguous());   // (B, T) each
        }
    }

    public static class Check
    {
        /// <summary>Widths 32 to 256 at depth 2: CompleteP's coordinates keep their size; throws (naming the module) when they do not.</summary>
        public static void StableAcrossWidth(int vocab, int context, int headDim, Tensor x, Tensor y)
        {
            var settings = new CoordinateCheckSettings
            {
                Parameterizations = [CompleteP.Parameterization.CompleteP],
                BaseShape = new CompleteP.ModelShape(32, 2),
                HeadDim = headDim,
                Widths = [32, 64, 128, 256],
                Steps = 5,
                Hyperparameters = new CompleteP.BaseHyperparameters(2e-3, 0.02),
            };
            var result = CoordinateCheck.Run(
                (width, depth) => new TinyGpt(vocab, context, width, depth, headDim),
                (step, seed) => (x, y),
                (logits, target) => nn.functional.cross_entropy(logits.view(-1, vocab), target.view(-1)),
                settings);
            result.Report().Should().BeStableAcrossWidth("completep");
        }
    }
}
