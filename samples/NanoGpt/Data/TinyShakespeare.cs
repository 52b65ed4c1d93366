using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// Karpathy's tiny Shakespeare (1.1 M characters), embedded in this assembly, with nanoGPT's
/// character-level tokenizer (the sorted distinct characters: 65 tokens), a 90/10 train/val split
/// and a deterministic batch sampler.
/// </summary>
public sealed class TinyShakespeare : IDisposable
{
    /// <summary>The logical name of the embedded text.</summary>
    public const string ResourceName = "tinyshakespeare.txt";

    private readonly char[] _itos;
    private readonly Dictionary<char, long> _stoi;
    private readonly Tensor _train;
    private readonly Tensor _val;

    private TinyShakespeare(string text)
    {
        Text = text;
        _itos = text.Distinct().Order().ToArray();
        _stoi = _itos.Select((c, i) => (c, (long)i)).ToDictionary(p => p.c, p => p.Item2);
        var ids = Encode(text);
        int n = (int)(0.9 * ids.Length);
        _train = torch.tensor(ids[..n], dtype: ScalarType.Int64);
        _val = torch.tensor(ids[n..], dtype: ScalarType.Int64);
    }

    /// <summary>Loads the embedded text.</summary>
    public static TinyShakespeare Load()
    {
        using var stream = typeof(TinyShakespeare).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The resource '{ResourceName}' is not embedded in {typeof(TinyShakespeare).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return new TinyShakespeare(reader.ReadToEnd());
    }

    /// <summary>The whole corpus.</summary>
    public string Text { get; }

    /// <summary>The tokens: the distinct characters in ordinal order (token id = index).</summary>
    public IReadOnlyList<char> Vocabulary => _itos;

    /// <summary>Number of tokens (65).</summary>
    public int VocabSize => _itos.Length;

    /// <summary>Number of tokens in a split.</summary>
    public long Length(DataSplit split) => Data(split).shape[0];

    /// <summary>Token ids of a string; throws on a character outside the vocabulary.</summary>
    public long[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Select(c => _stoi.TryGetValue(c, out var id)
            ? id
            : throw new ArgumentException($"Character U+{(int)c:X4} is not in the vocabulary.", nameof(text))).ToArray();
    }

    /// <summary>The string of token ids.</summary>
    public string Decode(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return new string(ids.Select(i => _itos[i]).ToArray());
    }

    /// <summary>
    /// A batch of <paramref name="batchSize"/> random windows of <paramref name="blockSize"/> tokens:
    /// inputs <c>x</c> and next-token targets <c>y</c> (both int64 [batch, block]) on
    /// <paramref name="device"/> (CPU if null). The offsets come from <paramref name="generator"/>.
    /// </summary>
    public (Tensor X, Tensor Y) GetBatch(DataSplit split, int batchSize, int blockSize, Generator? generator, Device? device = null)
    {
        var data = Data(split);
        if (batchSize < 1 || blockSize < 1 || blockSize >= data.shape[0])
        {
            throw new ArgumentOutOfRangeException(batchSize < 1 ? nameof(batchSize) : nameof(blockSize),
                $"batchSize must be at least 1 and blockSize in [1, {data.shape[0] - 1}], but were {batchSize} and {blockSize}.");
        }

        using var scope = torch.NewDisposeScope();
        var starts = torch.randint(data.shape[0] - blockSize, [batchSize, 1], dtype: ScalarType.Int64, generator: generator);
        var positions = starts + torch.arange(blockSize, dtype: ScalarType.Int64);
        var x = data.take(positions).to(device ?? CPU);
        var y = data.take(positions + 1).to(device ?? CPU);
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    /// <summary>The same as the generator overload, with a fresh generator seeded by <paramref name="seed"/>.</summary>
    public (Tensor X, Tensor Y) GetBatch(DataSplit split, int batchSize, int blockSize, long seed, Device? device = null)
    {
        using var generator = new Generator((ulong)seed);
        return GetBatch(split, batchSize, blockSize, generator, device);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _train.Dispose();
        _val.Dispose();
    }

    private Tensor Data(DataSplit split) => split switch
    {
        DataSplit.Train => _train,
        DataSplit.Val => _val,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "split must be Train or Val."),
    };
}
