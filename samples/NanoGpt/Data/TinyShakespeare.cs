using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace NanoGpt;

/// <summary>
/// Karpathy's tiny Shakespeare (1.1 M characters), embedded in this assembly, with nanoGPT's
/// character-level tokenizer (the sorted distinct characters: 65 tokens), a 90/10 train/val split
/// and a deterministic batch sampler. The window starts are drawn on the CPU from a seeded generator
/// (TorchSharp 0.107 makes CPU generators only), many batches at once; a batch is then gathered on
/// the device where its starts are, from a copy of the split kept there, so a training loop on a GPU
/// copies its starts once and samples each batch in a few kernels without waiting for the device.
/// </summary>
public sealed class TinyShakespeare : IDisposable
{
    /// <summary>The logical name of the embedded text.</summary>
    public const string ResourceName = "tinyshakespeare.txt";

    private readonly char[] _itos;
    private readonly Dictionary<char, long> _stoi;
    private readonly Tensor _train;
    private readonly Tensor _val;
    private readonly Dictionary<string, (Tensor Train, Tensor Val)> _onDevice = [];
    private readonly Lock _onDeviceLock = new();

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

    /// <summary>Loads a UTF-8 text file, tokenized by character as the embedded corpus; null loads the embedded text.</summary>
    /// <exception cref="ArgumentException">The file holds fewer than 100 characters (too few for a 90/10 split into windows).</exception>
    public static TinyShakespeare Load(string? path)
    {
        if (path is null)
        {
            return Load();
        }

        string text = File.ReadAllText(path, System.Text.Encoding.UTF8);
        return text.Length >= 100
            ? new TinyShakespeare(text)
            : throw new ArgumentException($"The text file '{path}' must hold at least 100 characters, but holds {text.Length}.", nameof(path));
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
        using var starts = DrawStarts(split, 1, batchSize, blockSize, generator, device);
        return Window(split, starts[0], blockSize);
    }

    /// <summary>The same as the generator overload, with a fresh generator seeded by <paramref name="seed"/>.</summary>
    public (Tensor X, Tensor Y) GetBatch(DataSplit split, int batchSize, int blockSize, long seed, Device? device = null)
    {
        using var generator = new Generator((ulong)seed);
        return GetBatch(split, batchSize, blockSize, generator, device);
    }

    /// <summary>
    /// The window starts of <paramref name="batches"/> batches, drawn at once on the CPU from
    /// <paramref name="generator"/> (the default generator if null) and copied to <paramref name="device"/>
    /// (CPU if null) in one transfer: int64 (batches, batchSize), each in [0, split length - blockSize).
    /// Drawing one batch at a time from the same generator gives the same starts.
    /// </summary>
    public Tensor DrawStarts(DataSplit split, int batches, int batchSize, int blockSize, Generator? generator, Device? device = null)
    {
        long length = Data(split).shape[0];
        if (batches < 1 || batchSize < 1 || blockSize < 1 || blockSize >= length)
        {
            throw new ArgumentOutOfRangeException(batches < 1 ? nameof(batches) : batchSize < 1 ? nameof(batchSize) : nameof(blockSize),
                $"batches and batchSize must be at least 1 and blockSize in [1, {length - 1}], but were {batches}, {batchSize} and {blockSize}.");
        }

        var drawn = torch.randint(length - blockSize, [batches, batchSize], dtype: ScalarType.Int64, generator: generator);
        if (device is null || device.type == DeviceType.CPU)
        {
            return drawn;
        }

        using (drawn)
        {
            return drawn.to(device);
        }
    }

    /// <summary>
    /// The batch whose windows start at <paramref name="starts"/> (int64 [batch], on any device): <c>x</c> and
    /// <c>y</c> (int64 [batch, block]) on that device, gathered from a copy of the split kept there.
    /// </summary>
    public (Tensor X, Tensor Y) Window(DataSplit split, Tensor starts, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(starts);
        var data = starts.device_type == DeviceType.CPU ? Data(split) : OnDevice(split, starts.device);
        using var scope = torch.NewDisposeScope();
        var positions = starts.unsqueeze(1) + torch.arange(blockSize, dtype: ScalarType.Int64, device: starts.device); // (B, T)
        var x = data.take(positions); // (B, T)
        var y = data.take(positions + 1); // (B, T), x shifted by one
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _train.Dispose();
        _val.Dispose();
        lock (_onDeviceLock)
        {
            foreach (var (train, val) in _onDevice.Values)
            {
                train.Dispose();
                val.Dispose();
            }

            _onDevice.Clear();
        }
    }

    /// <summary>The split's tokens on <paramref name="device"/>, copied there at the first call (thread-safe: parallel sweep runs share them).</summary>
    private Tensor OnDevice(DataSplit split, Device device)
    {
        string key = device.ToString();
        lock (_onDeviceLock)
        {
            if (!_onDevice.TryGetValue(key, out var copies))
            {
                copies = (_train.to(device).DetachFromDisposeScope(), _val.to(device).DetachFromDisposeScope());
                _onDevice[key] = copies;
            }

            return split switch
            {
                DataSplit.Train => copies.Train,
                DataSplit.Val => copies.Val,
                _ => throw new ArgumentOutOfRangeException(nameof(split), split, "split must be Train or Val."),
            };
        }
    }

    private Tensor Data(DataSplit split) => split switch
    {
        DataSplit.Train => _train,
        DataSplit.Val => _val,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "split must be Train or Val."),
    };
}
