import { createElement } from 'lwc';
import Concierge from 'c/concierge';
import chat from '@salesforce/apex/ConciergeController.chat';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/ConciergeController.chat', () => ({ default: jest.fn() }), { virtual: true });

// The Flow screen event, with the attribute name and value the real one carries.
jest.mock(
    'lightning/flowSupport',
    () => ({
        FlowAttributeChangeEvent: class extends CustomEvent {
            constructor(attributeName, attributeValue) {
                super('lightning__flowattributechange', { bubbles: true, composed: true });
                this.attributeName = attributeName;
                this.attributeValue = attributeValue;
            }
        }
    }),
    { virtual: true }
);

const ANSWER = {
    text: 'Sample answer',
    generationId: 'generation-1',
    toxicityDetected: false,
    toxicityScore: 0,
    toxicityScores: {},
    outputs: { greeting: 'Sample Greeting', needsAgent: true }
};

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
};

function render(properties = {}) {
    const element = createElement('c-concierge', { is: Concierge });
    Object.assign(element, properties);
    document.body.appendChild(element);
    return element;
}

function control(element, name) {
    const controls = element.shadowRoot.querySelectorAll('lightning-input, lightning-textarea, lightning-radio-group');
    return [...controls].find((found) => found.name === name);
}

function enter(element, name, property, value) {
    const target = control(element, name);
    target[property] = value;
    target.dispatchEvent(new CustomEvent('change'));
}

function button(element, label) {
    return [...element.shadowRoot.querySelectorAll('lightning-button')].find((found) => found.label === label);
}

function shown(element, selector) {
    return element.shadowRoot.querySelector(selector);
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    button(element, 'Start Conversation').click();
    await flushPromises();
}

async function followUp(element, text) {
    enter(element, 'follow-up', 'value', text);
    await flushPromises();
    button(element, 'Send').click();
    await flushPromises();
}

function turns(element) {
    return [...element.shadowRoot.querySelectorAll('.conversation lightning-formatted-text')].map((turn) => turn.value);
}

describe('c-concierge', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Concierge');
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        chat.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish(ANSWER);
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('starts the conversation with the inputs and no history', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        expect(chat).toHaveBeenCalledWith({ ...EXPECTED_INPUTS, history: [] });
        expect(turns(element)).toEqual(['Sample answer']);
        expect(shown(element, '.toxicity')).toBeNull();
        expect(shown(element, '.error')).toBeNull();
    });

    it('sends the conversation so far with a follow-up', async () => {
        chat.mockResolvedValueOnce(ANSWER).mockResolvedValueOnce({ ...ANSWER, text: 'Second answer', generationId: 'generation-2' });
        const element = render();

        await send(element);
        await followUp(element, 'Shorter, please');

        expect(chat).toHaveBeenLastCalledWith({
            ...EXPECTED_INPUTS,
            history: [
                { role: 'assistant', content: 'Sample answer' },
                { role: 'user', content: 'Shorter, please' }
            ]
        });
        expect(turns(element)).toEqual(['Sample answer', 'Shorter, please', 'Second answer']);
    });

    it('starts over with a new conversation', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);
        button(element, 'New Conversation').click();
        await flushPromises();

        expect(turns(element)).toEqual([]);
        expect(button(element, 'Start Conversation')).toBeDefined();
    });

    it('flags an answer the Trust Layer found toxic', async () => {
        chat.mockResolvedValue({ ...ANSWER, toxicityDetected: true, toxicityScore: 0.91 });
        const element = render();

        await send(element);

        expect(shown(element, '.toxicity')).not.toBeNull();
    });

    it('tells a Flow screen about the answer and its outputs', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render({ availableActions: ['NEXT', 'BACK'] });
        const changes = [];
        element.addEventListener('lightning__flowattributechange', (event) => changes.push([event.attributeName, event.attributeValue]));

        await send(element);

        expect(changes).toEqual([
            ['answerText', 'Sample answer'],
            ['greeting', ANSWER.outputs.greeting],
            ['needsAgent', ANSWER.outputs.needsAgent]
        ]);
        expect(element.answerText).toBe('Sample answer');
    });

    it('fires no Flow event outside a Flow screen', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();
        const changes = [];
        element.addEventListener('lightning__flowattributechange', (event) => changes.push(event.attributeName));

        await send(element);

        expect(changes).toEqual([]);
        expect(element.answerText).toBe('Sample answer');
    });

    it('keeps a Flow screen from going on until there is an answer', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render({ availableActions: ['NEXT'] });

        expect(element.validate()).toEqual({ isValid: false, errorMessage: 'Get an answer with Start Conversation before you go on.' });
        await send(element);
        expect(element.validate()).toEqual({ isValid: true });
    });

    it('shows each output of the answer with its label', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        const shownOutputs = [...element.shadowRoot.querySelectorAll('.outputs div')].map((row) => [
            row.querySelector('dt').textContent,
            row.querySelector('dd').textContent
        ]);
        expect(shownOutputs).toEqual([
            ['Greeting', String(ANSWER.outputs.greeting)],
            ['Needs Agent', String(ANSWER.outputs.needsAgent)]
        ]);
    });

    it('shows the message of a failed call', async () => {
        chat.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('sends only the last 10 turns of a long conversation', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);
        for (let turn = 1; turn <= 10; turn++) {
            // eslint-disable-next-line no-await-in-loop
            await followUp(element, `Follow-up ${turn}`);
        }

        const { history } = chat.mock.calls[chat.mock.calls.length - 1][0];
        expect(history).toHaveLength(10);
        expect(history[history.length - 1]).toEqual({ role: 'user', content: 'Follow-up 10' });
    });
});
