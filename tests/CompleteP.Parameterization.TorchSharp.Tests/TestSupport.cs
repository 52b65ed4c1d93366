using System.Text.Json;
using NanoGpt;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Tests.Adapter;


internal static class TestSupport
{
    /// <summary>Runs the nanoGPT sample's command line as a user types it and returns its exit code and both streams.</summary>
    public static (int Code, string Out, string Err) RunNanoGpt(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = NanoGpt.Cli.NanoGptCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    public static JsonElement Golden(string caseName)
    {
        var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference-nanogpt-completep.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == caseName);
    }

    public static IEnumerable<string> GoldenNames()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference-nanogpt-completep.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
    }

    public static ParameterizeOptions Options(Parameterization p, int baseWidth, int baseDepth, int headDim,
        double lr = 0.01, double std = 0.02, double wd = 0.1, double eps = 1e-8) => new()
    {
        Parameterization = p,
        BaseShape = new ModelShape(baseWidth, baseDepth),
        HeadDim = headDim,
        Hyperparameters = new BaseHyperparameters(lr, std, wd, eps),
    };

    public static Gpt BuildGpt(int width, int depth, int headDim = 16, int vocab = 65, int blockSize = 64, bool tie = true, bool bias = true) =>
        new(new GptConfig(vocab, blockSize, depth, width, headDim, Bias: bias, TieWeights: tie));

    /// <summary>The optimizer group (its options) that holds a parameter.</summary>
    public static ParamGroup GroupOf(optim.Optimizer optimizer, Parameter p) =>
        optimizer.ParamGroups.OfType<ParamGroup>().Single(g => g.Parameters.Any(q => q.Handle == p.Handle));

    public static (double Lr, double Wd, double Eps) HyperparametersOf(optim.Optimizer optimizer, Parameter p)
    {
        var g = GroupOf(optimizer, p);
        return g.Options switch
        {
            AdamW.Options o => (g.LearningRate, o.weight_decay!.Value, o.eps!.Value),
            Adam.Options o => (g.LearningRate, o.weight_decay!.Value, o.eps!.Value),
            SGD.Options o => (g.LearningRate, o.weight_decay!.Value, double.NaN),
            _ => throw new InvalidOperationException(),
        };
    }

    public static Tensor Tokens(int batch, int length, int vocab, int seed)
    {
        var g = new Generator((ulong)seed);
        return randint(0, vocab, [batch, length], generator: g, dtype: ScalarType.Int64);
    }

    public static double Std(Tensor t) => t.numel() > 1 ? t.std().item<float>() : 0.0;

    /// <summary>
    /// The values a golden (unfolded, Table 1) parameter has once a multiplier c is folded into it: learning rate
    /// and init std times c, epsilon and coupled weight decay divided by c.
    /// </summary>
    public static (double Lr, double Wd, double Eps, double Std) FoldedGolden(JsonElement g, double c) => (
        g.GetProperty("learningRate").GetDouble() * c,
        g.GetProperty("weightDecay").GetDouble() / c,
        g.GetProperty("adamEpsilon").GetDouble() / c,
        g.GetProperty("measuredInitStd").GetDouble() * c);

    /// <summary>
    /// The multiplier folded into a tensor of nanoGPT, whose head is tied to the token table: the residual multiplier in
    /// every residual output projection (c_proj), the unembedding multiplier in the final norm's gain and shift (the
    /// logits are linear in them; the reference multiplies the logits), else 1.
    /// </summary>
    public static double ExpectedFold(string name, double residualMultiplier, double outputMultiplier) =>
        name.Contains(".c_proj.", StringComparison.Ordinal) ? residualMultiplier : name.StartsWith("transformer.ln_f.", StringComparison.Ordinal) ? outputMultiplier : 1.0;
}
