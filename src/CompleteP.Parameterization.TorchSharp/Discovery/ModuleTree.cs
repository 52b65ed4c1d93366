using static TorchSharp.torch;

namespace CompleteP.Discovery;

/// <summary>
/// A model's module tree as discovery and the coordinate checks read it: every module once, root first, depth
/// first in registration order (TorchSharp's <c>named_modules()</c> walks breadth first and leaves the root out,
/// which loses "registered inside X"), with every parameter and buffer and the module that owns it. A module
/// registered under two names (a field re-registered under another name) keeps its first name.
/// </summary>
internal sealed class ModuleTree
{
    private readonly Dictionary<string, TreeModule> _byName;

    private ModuleTree(List<TreeModule> modules, List<OwnedTensor> parameters, List<OwnedTensor> buffers, List<(string Name, string FirstName)> aliases)
    {
        Modules = modules;
        Parameters = parameters;
        Buffers = buffers;
        Aliases = aliases;
        _byName = modules.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }

    /// <summary>The root.</summary>
    public TreeModule Root => Modules[0];

    /// <summary>Every module, root first, depth first in registration order.</summary>
    public IReadOnlyList<TreeModule> Modules { get; }

    /// <summary>Every parameter under every name a module registers it (a tied tensor appears once per owner), in tree order.</summary>
    public IReadOnlyList<OwnedTensor> Parameters { get; }

    /// <summary>Every buffer, persistent or not, and every Tensor field a module's own class holds unregistered, in tree order.</summary>
    public IReadOnlyList<OwnedTensor> Buffers { get; }

    /// <summary>The names under which a module already in the tree is registered again (a module shared by two places), with its first name.</summary>
    public IReadOnlyList<(string Name, string FirstName)> Aliases { get; }

    /// <summary>Reads the tree of a model.</summary>
    /// <param name="root">The model.</param>
    /// <returns>The tree.</returns>
    public static ModuleTree Of(nn.Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var modules = new List<TreeModule>();
        var parameters = new List<OwnedTensor>();
        var buffers = new List<OwnedTensor>();
        var aliases = new List<(string, string)>();
        var seen = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        void Walk(string name, nn.Module module, int parent)
        {
            if (!seen.TryAdd(module, name))
            {
                aliases.Add((name, seen[module]));
                return;
            }

            int index = modules.Count;
            modules.Add(new TreeModule(name, module, index, parent));
            parameters.AddRange(module.named_parameters(recurse: false).Select(p => new OwnedTensor(Join(name, p.name), name, p.name, p.parameter, true)));
            // Non-persistent buffers too (register_buffer(..., persistent: false): rotary tables, masks), which are not saved
            // but are no less invisible to an optimizer; and Tensor fields that were never registered (assigned after
            // RegisterComponents), found by walking the module's own fields.
            var registered = module.named_buffers(recurse: false, include_nonpersistent: true).ToList();
            registered.AddRange(NonPersistentBuffers(module).Where(b => registered.All(r => r.name != b.Name)).Select(b => (b.Name, b.buffer)));
            buffers.AddRange(registered.Select(b => new OwnedTensor(Join(name, b.name), name, b.name, b.buffer, false)));
            buffers.AddRange(UnregisteredTensorFields(module, registered.Select(b => b.buffer)).Select(f => new OwnedTensor(Join(name, f.Name), name, f.Name, f.Tensor, false)));
            foreach (var (child, childModule) in module.named_children())
            {
                Walk(Join(name, child), childModule, index);
            }
        }

        Walk(string.Empty, root, -1);
        return new ModuleTree(modules, parameters, buffers, aliases);
    }

    /// <summary>
    /// The buffers registered with <c>persistent: false</c>: TorchSharp 0.107's <c>named_buffers</c> leaves them out whatever
    /// its <c>include_nonpersistent</c> says, so they are read from the module's buffer table (its private
    /// <c>_internal_buffers</c>, a list of name, tensor and persistence), found by reflection. A TorchSharp
    /// version without that field yields none here: the named_buffers above still lists the persistent ones.
    /// </summary>
    private static IEnumerable<(string Name, Tensor buffer)> NonPersistentBuffers(nn.Module module)
    {
        var field = typeof(nn.Module).GetField("_internal_buffers", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
        // The table is a TorchSharp OrderedDict: enumerable as (name, (tensor, persistent)) tuples (its KeyValuePair enumerator throws).
        if (field?.GetValue(module) is IEnumerable<(string Name, (Tensor Tensor, bool Persistent) Entry)> table)
        {
            foreach (var (name, (tensor, persistent)) in table)
            {
                if (!persistent && tensor is not null && !tensor.IsInvalid)
                {
                    yield return (name, tensor);
                }
            }
        }
    }

    /// <summary>
    /// The Tensor fields a module's own classes declare (not TorchSharp's base classes) that hold a live tensor registered
    /// neither as a parameter nor as a buffer: a tensor assigned after <c>RegisterComponents</c>, which no optimizer sees.
    /// </summary>
    private static IEnumerable<(string Name, Tensor Tensor)> UnregisteredTensorFields(nn.Module module, IEnumerable<Tensor> buffers)
    {
        var known = new HashSet<IntPtr>(buffers.Select(b => b.Handle));
        known.UnionWith(module.named_parameters(recurse: false).Select(p => p.parameter.Handle));
        const System.Reflection.BindingFlags Instance = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public
                                                        | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly;
        for (var type = module.GetType(); type is not null && type.Assembly != typeof(nn.Module).Assembly; type = type.BaseType)
        {
            foreach (var field in type.GetFields(Instance).Where(f => typeof(Tensor).IsAssignableFrom(f.FieldType) && !typeof(TorchSharp.Modules.Parameter).IsAssignableFrom(f.FieldType)))
            {
                if (field.GetValue(module) is Tensor t && !t.IsInvalid && known.Add(t.Handle))
                {
                    yield return (field.Name.TrimStart('_'), t);
                }
            }
        }
    }

    /// <summary>The module with a name, or null.</summary>
    /// <param name="name">Its name (empty for the root).</param>
    /// <returns>The module, or null.</returns>
    public TreeModule? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The direct children of a module, in registration order.</summary>
    /// <param name="module">The module.</param>
    /// <returns>Its children.</returns>
    public IEnumerable<TreeModule> Children(TreeModule module) => Modules.Where(m => m.Parent == module.Index);

    /// <summary>A module and every module below it.</summary>
    /// <param name="module">The module.</param>
    /// <returns>The subtree, the module first.</returns>
    public IEnumerable<TreeModule> Subtree(TreeModule module) => Modules.Where(m => IsInside(m.Name, module.Name));

    /// <summary>The parameters a module registers itself (not its children's).</summary>
    /// <param name="module">The module.</param>
    /// <returns>Its own parameters.</returns>
    public IEnumerable<OwnedTensor> OwnParameters(TreeModule module) => Parameters.Where(p => p.ModuleName == module.Name);

    /// <summary>Whether a name is a module's own name or lies below it (every name lies below the root, whose name is empty).</summary>
    /// <param name="name">A module or tensor name.</param>
    /// <param name="ancestor">A module name.</param>
    /// <returns>True when <paramref name="name"/> is <paramref name="ancestor"/> or below it.</returns>
    public static bool IsInside(string name, string ancestor) =>
        ancestor.Length == 0 || name == ancestor || name.StartsWith(ancestor + ".", StringComparison.Ordinal);

    /// <summary>Joins a module name and a local name with a dot (the root's name is empty).</summary>
    /// <param name="prefix">The module name.</param>
    /// <param name="name">The local name.</param>
    /// <returns>The full name.</returns>
    public static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}

/// <summary>One module of a <see cref="ModuleTree"/>.</summary>
/// <param name="Name">Its name in the model (empty for the root).</param>
/// <param name="Module">The module.</param>
/// <param name="Index">Its position in the tree's depth-first registration order.</param>
/// <param name="Parent">Its parent's index, or -1 for the root.</param>
internal sealed record TreeModule(string Name, nn.Module Module, int Index, int Parent)
{
    /// <summary>The module's type name, for messages.</summary>
    public string TypeName => Module.GetType().Name;

    /// <summary>The name for messages: the module's name, or <c>(root)</c>.</summary>
    public string Display => Name.Length == 0 ? "(root)" : Name;

    /// <summary>The last segment of the name (<c>o_proj</c> for <c>layers.0.self_attn.o_proj</c>).</summary>
    public string LocalName => Name[(Name.LastIndexOf('.') + 1)..];
}

/// <summary>A parameter or buffer with the module that registers it.</summary>
/// <param name="Name">Its full name.</param>
/// <param name="ModuleName">The module that registers it.</param>
/// <param name="LocalName">Its name in that module.</param>
/// <param name="Tensor">The tensor.</param>
/// <param name="IsParameter">True for a parameter, false for a buffer.</param>
internal sealed record OwnedTensor(string Name, string ModuleName, string LocalName, Tensor Tensor, bool IsParameter);
