using System.Globalization;
using System.Text.RegularExpressions;
namespace CompleteP.CoordinateChecks;

/// <summary>Where a module sits in the model: outside the blocks, or in block <see cref="Index"/>.</summary>
/// <param name="Index">The block index, or -1 outside the blocks.</param>
/// <param name="Prefix">The name up to and including the index segment (<c>transformer.h.3</c>); empty outside the blocks.</param>
/// <param name="Rest">The part after the block (<c>.attn</c>), empty for the block's own output.</param>
internal readonly record struct BlockLocation(int Index, string Prefix, string Rest)
{
    /// <summary>Whether the module lies in a block.</summary>
    public bool InBlock => Index >= 0;
}

/// <summary>
/// Reading block indices out of module names, and the names a depth sweep compares modules by: the one home of
/// "the last block", shared by the verdicts (<see cref="CoordinateCheckReport"/>) and the plots.
/// </summary>
internal static partial class ModuleNames
{
    /// <summary>The marker that replaces the last block's index in depth sweeps.</summary>
    public const string Last = "last";

    /// <summary>
    /// Where a measured module sits. Rows from <c>CoordinateCheck.Run</c> carry a kind and block index; rows
    /// without them (kind <c>other</c> and index -1, e.g. read from an older CSV) are parsed: the first
    /// purely numeric path segment after a named container (<c>transformer.h.3.attn</c>, <c>layers.0</c>)
    /// is the block index.
    /// </summary>
    /// <param name="row">A measurement.</param>
    /// <returns>Its block and the parts of its name around the block's index.</returns>
    public static BlockLocation Locate(CoordinateMeasurement row)
    {
        ArgumentNullException.ThrowIfNull(row);
        string[] parts = row.Module.Split('.');
        bool measured = row.BlockIndex >= 0 || row.Kind != ModuleKind.Other;
        if (measured && row.BlockIndex < 0)
        {
            return new BlockLocation(-1, string.Empty, string.Empty);
        }

        for (int i = 1; i < parts.Length; i++)
        {
            if (IsIndex(parts[i]) && !IsIndex(parts[i - 1])
                && (!measured || int.Parse(parts[i], CultureInfo.InvariantCulture) == row.BlockIndex))
            {
                int index = int.Parse(parts[i], CultureInfo.InvariantCulture);
                string prefix = string.Join('.', parts[..(i + 1)]);
                return new BlockLocation(index, prefix, row.Module[prefix.Length..]);
            }
        }

        // A measured block index that is not a path segment (e.g. "block_3"): the last run of its digits.
        if (measured)
        {
            var match = LastDigits(row.Module, row.BlockIndex);
            if (match is { } m)
            {
                return new BlockLocation(row.BlockIndex, row.Module[..(m.Index + m.Length)], row.Module[(m.Index + m.Length)..]);
            }

            return new BlockLocation(row.BlockIndex, row.Module, string.Empty);
        }

        return new BlockLocation(-1, string.Empty, string.Empty);
    }

    /// <summary>
    /// The name a depth sweep compares a module by: modules outside the blocks and in block 0 keep their
    /// names; a module in block <c>depth-1</c> has its index replaced by <c>last</c>
    /// (<c>transformer.h.11.mlp</c> at depth 12 becomes <c>transformer.h.last.mlp</c>); others give none.
    /// At depth 1 the one block is both, and gives both names.
    /// </summary>
    /// <param name="row">A measurement.</param>
    /// <returns>Its names in a depth sweep.</returns>
    public static IEnumerable<string> DepthSweepNames(CoordinateMeasurement row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var at = Locate(row);
        if (!at.InBlock)
        {
            yield return row.Module;
            yield break;
        }

        if (at.Index == 0)
        {
            yield return row.Module;
        }

        if (at.Index == row.Depth - 1)
        {
            yield return ReplaceIndex(at) + at.Rest;
        }
    }

    /// <summary>
    /// The name a depth verdict compares a module by: its own outside the blocks, <c>last</c> in place of the block
    /// index in the last block; null for the other blocks (depth verdicts judge only the last).
    /// </summary>
    /// <param name="row">A measurement.</param>
    /// <returns>The name, or null.</returns>
    public static string? DepthKey(CoordinateMeasurement row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var at = Locate(row);
        return !at.InBlock ? row.Module : at.Index == row.Depth - 1 ? ReplaceIndex(at) + at.Rest : null;
    }

    private static string ReplaceIndex(BlockLocation at)
    {
        string index = at.Index.ToString(CultureInfo.InvariantCulture);
        if (at.Prefix.EndsWith(index, StringComparison.Ordinal))
        {
            return at.Prefix[..^index.Length] + Last;
        }

        return at.Prefix + " (" + Last + ")";
    }

    private static bool IsIndex(string segment) => segment.Length > 0 && segment.All(char.IsAsciiDigit);

    private static Match? LastDigits(string name, int index)
    {
        Match? found = null;
        foreach (Match m in Digits().Matches(name))
        {
            if (int.TryParse(m.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v == index)
            {
                found = m;
            }
        }

        return found;
    }

    [GeneratedRegex("[0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();
}
