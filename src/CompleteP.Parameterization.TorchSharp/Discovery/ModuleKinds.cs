using System.Text.RegularExpressions;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// What a module is, read from its type and its own tensors: a Linear (TorchSharp's <c>Linear</c> is sealed, so
/// third-party code has its own classes: any type named <c>*Linear*</c> with a 2-D weight), an embedding table, a
/// norm, a container, or one of TorchSharp's native transformer modules (whose layers run in libtorch).
/// </summary>
internal static partial class ModuleKinds
{
    /// <summary>Names that say "this Linear writes the branch's output" (o_proj, wo, c_proj, dense, down_proj, w2, fc2, ...).</summary>
    [GeneratedRegex(@"^(o|wo|w_o|out|o_?proj|out_?proj|c_?proj|proj|dense|output_?projection|out_?proj_?linear|down|down_?proj|w2|w_?out|(fc|ffn|mlp)_?out|fc2|lin2|linear2|dense_?4h_?to_?h|proj_?out|to_?out)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OutputProjectionName();

    /// <summary>Names of readouts (lm_head, head, output, decoder, classifier, ...).</summary>
    [GeneratedRegex(@"(^|_)(lm_?head|head|output|decoder|decoder_?head|classifier|logits|unembed(ding)?|readout)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReadoutName();

    /// <summary>Names of input layers (embed, patch, input projections).</summary>
    [GeneratedRegex(@"(emb|embed|embedding|patch|proj_?in|in_?proj|input|wte|wpe)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex InputName();

    /// <summary>Names of buffers that are evidently not weights: masks, rotary tables, position tables, caches.</summary>
    [GeneratedRegex(@"(mask|tril|causal|bias|cos|sin|freq|rotary|rope|pe$|pos|position|cache|inv_)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex NonWeightBufferName();

    /// <summary>A Linear: TorchSharp's, or any type whose name contains <c>Linear</c>, holding a 2-D weight.</summary>
    public static bool IsLinear(nn.Module module) => module is Linear || module.GetType().Name.Contains("Linear", StringComparison.Ordinal);

    /// <summary>An embedding table: TorchSharp's <c>Embedding</c> or a type whose name contains <c>Embedding</c>.</summary>
    public static bool IsEmbedding(nn.Module module) => module is Embedding || module.GetType().Name.Contains("Embedding", StringComparison.Ordinal);

    /// <summary>A norm: a type whose name contains <c>Norm</c> and whose own parameters are vectors (gain, shift).</summary>
    public static bool IsNorm(nn.Module module) => module.GetType().Name.Contains("Norm", StringComparison.Ordinal)
                                                   && module.named_parameters(recurse: false).All(p => p.parameter.dim() == 1);

    /// <summary>A container of modules: Sequential, ModuleList or ModuleDict.</summary>
    public static bool IsContainer(nn.Module module) => module is Sequential || IsGenericOf(module, typeof(ModuleList<>)) || IsGenericOf(module, typeof(ModuleDict<>));

    /// <summary>
    /// One of TorchSharp's native transformer modules (TransformerEncoder(Layer), TransformerDecoder(Layer),
    /// Transformer, MultiheadAttention): their layers run inside libtorch, with no submodules to reach.
    /// </summary>
    public static bool IsNative(nn.Module module) => module is TransformerEncoder or TransformerEncoderLayer or TransformerDecoder
        or TransformerDecoderLayer or Transformer or MultiheadAttention;

    /// <summary>The 2-D weight of a Linear-like module (its own parameter named <c>weight</c>, else its only 2-D parameter), or null.</summary>
    public static Tensor? LinearWeight(nn.Module module)
    {
        var own = module.named_parameters(recurse: false).Where(p => p.parameter.dim() == 2).ToList();
        return own.FirstOrDefault(p => p.name == "weight").parameter ?? (own.Count == 1 ? own[0].parameter : null);
    }

    /// <summary>(in_features, out_features) of a Linear-like module from its weight [out, in]; null without a 2-D weight.</summary>
    public static (long In, long Out)? LinearShape(nn.Module module) =>
        LinearWeight(module) is { } w ? (w.shape[1], w.shape[0]) : null;

    /// <summary>Whether a Linear's local name says it writes a branch's output.</summary>
    public static bool IsOutputProjectionName(string localName) => OutputProjectionName().IsMatch(localName);

    /// <summary>Whether a module's local name says it is a readout.</summary>
    public static bool IsReadoutName(string localName) => ReadoutName().IsMatch(localName);

    /// <summary>Whether a module's local name says it is an input layer.</summary>
    public static bool IsInputName(string localName) => InputName().IsMatch(localName);

    /// <summary>Whether a buffer's name says it is a mask, rotary or position table or a cache, not a weight.</summary>
    public static bool IsNonWeightBufferName(string name) => NonWeightBufferName().IsMatch(name);

    /// <summary>Whether a module holds a parameter of two or more dimensions anywhere below it.</summary>
    public static bool HoldsWeight(nn.Module module) => module.named_parameters().Any(p => p.parameter.dim() >= 2);

    /// <summary>Whether a module's runtime type derives from a generic type definition.</summary>
    public static bool IsGenericOf(object o, Type generic)
    {
        for (var t = o.GetType(); t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == generic)
            {
                return true;
            }
        }

        return false;
    }
}
